"""The Classify tab's model choice through gradio_client: the Fashion-MNIST model by default,
an ImageNet model that cannot be loaded refused in one sentence, the app serving on."""

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from densenet_demo.training.data import CLASS_NAMES

from support import EXAMPLE

UNAVAILABLE = (
    "DenseNet-121 (ImageNet) is unavailable: its weights file "
    "densenet121_weights_tf_dim_ordering_tf_kernels.h5 is not in "
)


@pytest.fixture(scope="module")
def client(classify_app_url):
    return Client(classify_app_url, verbose=False)


def test_predict_takes_the_model_as_an_optional_third_input(client):
    parameters = client.view_api(print_info=False, return_format="dict")["named_endpoints"][
        "/predict"
    ]["parameters"]
    assert [p["parameter_has_default"] for p in parameters] == [False, True, True]
    assert parameters[2]["parameter_default"] == "fashion"
    label, _, _ = client.predict(handle_file(str(EXAMPLE)), 3, "fashion", api_name="/predict")
    assert label["label"] in CLASS_NAMES


def test_an_unavailable_imagenet_model_says_why_and_fashion_still_works(client):
    for call in (
        lambda: client.predict("densenet121", api_name="/choose_model"),
        lambda: client.predict(handle_file(str(EXAMPLE)), 3, "densenet121", api_name="/predict"),
    ):
        with pytest.raises(
            AppError,
            match="^"
            + UNAVAILABLE.replace("(", r"\(").replace(")", r"\)")
            + ".* and downloads are off \\(DENSENET_OFFLINE=1\\)\\.$",
        ):
            call()
    label, _, _ = client.predict(handle_file(str(EXAMPLE)), 3, api_name="/predict")
    assert label["label"] in CLASS_NAMES
    assert "Fashion-MNIST" in client.predict("fashion", api_name="/choose_model")


def test_an_unknown_model_is_refused(client):
    with pytest.raises(
        AppError,
        match="^Model: 'nope' is not one of 'fashion', "
        "'densenet121', 'densenet169', 'densenet201'$",
    ):
        client.predict(handle_file(str(EXAMPLE)), 3, "nope", api_name="/predict")
