"""The Explore endpoints through gradio_client against the running app."""

import pytest
from gradio_client.exceptions import AppError

DENSENET121 = ["densenet121", 224, 224, 3, 1000, 32, "6, 12, 24, 16", True, 4, 0.5, 64,
               "imagenet", "paper", 0, 0.0, "softmax"]
POSITION = {name: i for i, name in enumerate(
    ["preset", "height", "width", "channels", "num_classes", "growth_rate", "block_layers",
     "bottleneck", "bn_size", "compression", "init_features", "stem", "style",
     "transition_features", "dropout_rate", "classifier_activation", "batch_size"])}


def with_value(name, value):
    values = DENSENET121 + [32]
    values[POSITION[name]] = value
    return values


def test_explore_returns_the_summary_views(client, app_url):
    headline, channels, stages, table, code, link = client.predict(
        *DENSENET121, 32, api_name="/explore")
    assert "8,062,504" in headline and "| Depth | 121" in headline
    assert len(table["data"]) == 429 and table["headers"][1] == "layer"
    assert "block_layers=(6, 12, 24, 16)" in code
    assert link.startswith(app_url + "?preset=densenet121&") and "growth_rate=32" in link


def test_changing_the_growth_rate_changes_the_numbers(client):
    headline = client.predict(*with_value("growth_rate", 24), api_name="/explore")[0]
    assert "8,062,504" not in headline and "Custom configuration" in headline


def test_load_preset_sets_every_control_and_the_views(client):
    result = client.predict("article", 32, api_name="/load_preset")
    controls, headline = result[:16], result[16]
    assert controls[6] == "4, 4" and controls[13] == 128 and controls[12] == "article"
    assert "153,482" in headline and "departs from the paper" in headline


@pytest.mark.parametrize("name, value, message", [
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
])
def test_invalid_values_sent_to_the_api_get_a_clear_error(client, name, value, message):
    with pytest.raises(AppError) as error:
        client.predict(*with_value(name, value), api_name="/explore")
    assert message in str(error.value)
    # ... and the app keeps serving.
    assert "8,062,504" in client.predict(*DENSENET121, 32, api_name="/explore")[0]


def test_build_with_keras_agrees_with_the_analytic_summary(client):
    article = client.predict("article", 32, api_name="/load_preset")[:16]
    report = client.predict(*article, api_name="/build_keras")
    assert report.startswith("✅ Keras and the analytic summary agree")
    assert "count_params() = 153,482" in report and "conv2_block1_1_conv" in report


def test_build_with_keras_refuses_oversized_models(client):
    huge = DENSENET121.copy()
    huge[POSITION["growth_rate"]], huge[POSITION["block_layers"]] = 64, "6, 12, 64, 128"
    with pytest.raises(AppError, match="Not built: model too large to build here"):
        client.predict(*huge, api_name="/build_keras")
