"""The Classify tab's model choice through gradio_client: the Fashion-MNIST model by default,
an ImageNet model that cannot be loaded refused in one sentence, the app serving on."""

import re

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from densenet_demo.training.data import CLASS_NAMES

from support import EXAMPLE

UNAVAILABLE = "DenseNet-121 (ImageNet) is unavailable: its weights file is not in "
REMEDY = (
    "put densenet121_weights_tf_dim_ordering_tf_kernels.h5 in the weights folder "
    "(DENSENET_WEIGHTS_DIR, or --weights-dir on the command line)."
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
            + ".* and downloads are off \\(DENSENET_OFFLINE=1\\): "
            + re.escape(REMEDY)
            + "$",
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


@pytest.mark.slow  # the junk file is read into a DenseNet-121 built for it
def test_a_model_that_failed_is_tried_again_only_once_its_folder_changed_or_time_passed(
    tmp_path, monkeypatch
):
    import socket

    from densenet_demo.inference import imagenet, service

    monkeypatch.setenv("DENSENET_OFFLINE", "1")
    registry = service.ModelRegistry(tmp_path)
    first = registry.load("densenet121")
    assert first[0] is None and "downloads are off" in first[1]
    monkeypatch.delenv("DENSENET_OFFLINE")  # a retry would now try a download, and fail so
    with socket.socket() as closed:  # bound, never listening: a download is refused at once
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setattr(imagenet, "BASE_URL", f"http://127.0.0.1:{closed.getsockname()[1]}/")
        assert registry.load("densenet121") == first  # the same reason, nothing tried
        monkeypatch.setattr(service, "RETRY_AFTER_S", 0)  # once a while has passed: tried
        assert "could not be downloaded" in registry.load("densenet121")[1]
    monkeypatch.setattr(service, "RETRY_AFTER_S", 600)
    (tmp_path / "densenet121_weights_tf_dim_ordering_tf_kernels.h5").write_bytes(b"not HDF5")
    changed = registry.load("densenet121")  # the folder changed: tried again, and read
    assert changed[0] is None and "is not a weights file for densenet121" in changed[1]
