"""The Explore endpoints through gradio_client against the running app."""

import pytest
from gradio_client.exceptions import AppError

from densenet_demo.architecture.controls import BATCH_SIZE, CONTROL_NAMES, CONTROLS, preset_controls

DENSENET121 = list(preset_controls("densenet121").values())


def with_value(name, value):
    """densenet121's control values and batch size 32, positionally, with `name` changed."""
    values = {**preset_controls("densenet121"), "batch_size": 32, name: value}
    return list(values.values())


def parameters(client, endpoint):
    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    return [(p["parameter_name"], p["label"]) for p in info[endpoint]["parameters"]]


def test_the_api_takes_the_controls_by_their_spec_names_and_labels(client):
    controls = [(control.name, control.label) for control in CONTROLS]
    assert parameters(client, "/explore") == [*controls, (BATCH_SIZE.name, BATCH_SIZE.label)]
    assert parameters(client, "/build_keras") == controls
    assert parameters(client, "/load_preset") == [
        ("name", "Preset"),
        (BATCH_SIZE.name, BATCH_SIZE.label),
    ]


def test_every_endpoint_of_the_page_is_served(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {
        "/explore",
        "/load_preset",
        "/load_link",
        "/build_keras",
        "/predict",
        "/choose_model",
        "/explain",
        "/misclassified",
    }
    assert [name for name, _ in parameters(client, "/predict")] == ["image", "top_k", "model"]
    assert [name for name, _ in parameters(client, "/explain")] == ["image", "model", "opacity"]
    assert [name for name, _ in parameters(client, "/misclassified")] == [
        "true_class",
        "predicted_class",
    ]


def test_every_endpoint_is_described_for_callers_and_names_its_outputs(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for name, endpoint in endpoints.items():
        assert len(endpoint["description"]) > 40, name
        assert (
            "`CONTROLS`" not in endpoint["description"] and "Service" not in endpoint["description"]
        ), name  # written for callers, not in the code's words
        unnamed = [r["label"] for r in endpoint["returns"] if r["label"].startswith("value_")]
        assert unnamed == [], name


def test_explore_returns_the_summary_views(client, app_url):
    headline, channels, stages, table, code, link = client.predict(
        *DENSENET121, 32, api_name="/explore"
    )
    assert "8,062,504" in headline and "| Depth | 121" in headline
    assert len(table["data"]) == 429 and table["headers"][1] == "layer"
    assert "block_layers=(6, 12, 24, 16)" in code
    assert link.startswith(app_url + "?preset=densenet121&") and "growth_rate=32" in link


def test_changing_the_growth_rate_changes_the_numbers(client):
    headline = client.predict(*with_value("growth_rate", 24), api_name="/explore")[0]
    assert "8,062,504" not in headline and "Custom configuration" in headline


def test_load_preset_sets_every_control_and_the_views(client):
    result = client.predict("article", 32, api_name="/load_preset")
    controls = dict(zip(CONTROL_NAMES, result))
    headline = result[len(CONTROL_NAMES)]
    assert controls["block_layers"] == "4, 4" and controls["transition_features"] == 128
    assert controls["style"] == "article"
    assert "153,482" in headline and "departs from the paper" in headline


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("growth_rate", 0, "Growth rate k: Value 0 is less than minimum value 1"),
        ("growth_rate", 10_000, "Growth rate k: Value 10000 is greater than maximum value 64"),
        ("block_layers", "six, twelve", "block_layers='six, twelve' is invalid"),
        ("block_layers", "1,1,1,1,1,1,1", "allowed 1 to 6 dense blocks"),
        ("block_layers", "", "block_layers=() is invalid"),
        ("height", 16, r"at least 29 px"),
        ("height", -1, "input_shape=(-1, 224, 3) is invalid"),
        ("num_classes", 10**9, "num_classes=1000000000 is invalid"),
        ("stem", "resnet", "resnet"),
        ("bottleneck", "yes", "bottleneck"),
        ("batch_size", 0, "batch_size=0 is invalid"),
        ("compression", 7.0, "Compression θ"),
    ],
)
def test_invalid_values_sent_to_the_api_get_a_clear_error(client, name, value, message):
    with pytest.raises(AppError) as error:
        client.predict(*with_value(name, value), api_name="/explore")
    assert message in str(error.value)
    # ... and the app keeps serving.
    assert "8,062,504" in client.predict(*DENSENET121, 32, api_name="/explore")[0]


def test_build_with_keras_agrees_with_the_analytic_summary(client):
    article = client.predict("article", 32, api_name="/load_preset")[: len(CONTROL_NAMES)]
    report = client.predict(*article, api_name="/build_keras")
    assert report.startswith("AGREE: Keras count_params() = 153,482")
    assert "count_params() = 153,482" in report and "conv2_block1_1_conv" in report


def test_build_with_keras_refuses_oversized_models(client):
    huge = {**preset_controls("densenet121"), "growth_rate": 64, "block_layers": "6, 12, 64, 128"}
    with pytest.raises(AppError, match="Not built: model too large to build here"):
        client.predict(**huge, api_name="/build_keras")
