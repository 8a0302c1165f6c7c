"""The Explore endpoints through gradio_client against the running app: summaries,
comparisons, downloads and builds."""

import csv
import dataclasses
import json
from pathlib import Path

import pytest
from gradio_client.exceptions import AppError

from densenet_demo import PRESETS, DenseNetConfig
from densenet_demo.architecture.compare import compare_figures, comparison_table, signed_difference
from densenet_demo.architecture.controls import (
    BATCH_SIZE,
    CONTROL_NAMES,
    CONTROLS,
    MEMORY_CONTROLS,
    MEMORY_SIZE,
    OPTIMIZER,
    controls_from_config,
    preset_controls,
)
from densenet_demo.architecture.report import headline, layer_table
from densenet_demo.architecture.share import config_code, to_query
from densenet_demo.architecture.summary import summarize

DENSENET121 = list(preset_controls("densenet121").values())


def with_value(name, value):
    """densenet121's control values, batch size 32 and the default optimizer and memory size,
    positionally, with `name` changed."""
    memory = {control.name: control.default for control in MEMORY_CONTROLS}
    values = {**preset_controls("densenet121"), **memory, "batch_size": 32, name: value}
    return list(values.values())


def parameters(client, endpoint):
    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    return [(p["parameter_name"], p["label"]) for p in info[endpoint]["parameters"]]


def test_the_api_takes_the_controls_by_their_spec_names_and_labels(client):
    controls = [(control.name, control.label) for control in CONTROLS]
    memory = [(control.name, control.label) for control in MEMORY_CONTROLS]
    assert memory[0] == (BATCH_SIZE.name, BATCH_SIZE.label)  # where it was before the others
    assert parameters(client, "/explore") == [*controls, *memory]
    assert parameters(client, "/build_keras") == controls
    assert parameters(client, "/load_preset") == [("name", "Preset"), *memory]


def test_every_endpoint_of_the_page_is_served(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {
        "/explore",
        "/compare",
        "/load_preset",
        "/load_link",
        "/build_keras",
        "/export_keras",
        "/export_layer_table",
        "/export_config",
        "/export_code",
        "/predict",
        "/choose_model",
        "/explain",
        "/misclassified",
        "/summary",
        "/train",
        "/cancel_training",
        "/runs",
    }
    assert [name for name, _ in parameters(client, "/summary")] == [
        "preset",
        "overrides",
        "batch_size",
        "optimizer",
        "memory_gib",
    ]
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
    layer = table["headers"].index("layer")
    layers = summarize(PRESETS["densenet121"]).layers
    assert [row[layer] for row in table["data"]] == [row.name for row in layers]
    assert "block_layers=(6, 12, 24, 16)" in code
    assert link.startswith(app_url + "?preset=densenet121&") and "growth_rate=32" in link


def test_changing_the_growth_rate_changes_the_numbers(client):
    headline = client.predict(*with_value("growth_rate", 24), api_name="/explore")[0]
    assert "8,062,504" not in headline and "Custom configuration" in headline


def test_the_training_memory_follows_the_optimizer_and_memory_size_sent(client):
    def shown(text, summary, *memory):
        return all(f"| {label} | {value} |" in text for label, value in headline(summary, *memory))

    densenet121, bc100 = summarize(PRESETS["densenet121"]), summarize(PRESETS["densenet-bc-100"])
    adam = client.predict(*with_value("optimizer", "adam"), api_name="/explore")[0]
    assert shown(adam, densenet121, 32, "adam", MEMORY_SIZE.default)
    typed = client.predict(*with_value("memory_gib", "12"), api_name="/explore")[0]
    assert shown(typed, densenet121, 32, OPTIMIZER.default, 12)
    preset = client.predict("densenet-bc-100", 64, "adam", 40, api_name="/load_preset")
    assert shown(preset[len(CONTROL_NAMES)], bc100, 64, "adam", 40)


def test_load_preset_sets_every_control_and_the_views(client):
    result = client.predict("article", 32, api_name="/load_preset")
    controls = dict(zip(CONTROL_NAMES, result))
    headline = result[len(CONTROL_NAMES)]
    assert controls["block_layers"] == "4, 4" and controls["transition_features"] == 128
    assert controls["style"] == "article"
    assert "153,482" in headline and "departs from the paper" in headline


def test_build_with_keras_agrees_with_the_analytic_summary(client):
    article = client.predict("article", 32, api_name="/load_preset")[: len(CONTROL_NAMES)]
    report = client.predict(*article, api_name="/build_keras")
    assert report.startswith("AGREE: Keras count_params() = 153,482")
    assert "count_params() = 153,482" in report and "conv2_block1_1_conv" in report


def test_compare_takes_two_configurations_and_the_memory_settings(client):
    assert [name for name, _ in parameters(client, "/compare")] == [
        "config_a",
        "config_b",
        "batch_size",
        "optimizer",
        "memory_gib",
    ]
    for name in ("/export_layer_table", "/export_config", "/export_code", "/export_keras"):
        assert parameters(client, name) == [(c.name, c.label) for c in CONTROLS], name


def test_compare_returns_b_beside_a_with_the_differences(client):
    a = PRESETS["densenet121"]
    b = dataclasses.replace(a, growth_rate=24)
    headline, channels, stages, fields = client.predict(
        a.to_dict(), "http://127.0.0.1/?" + to_query(b), 32, api_name="/compare"
    )
    pairs = compare_figures(summarize(a), summarize(b), 32)
    assert comparison_table(pairs) in headline
    parameters_pair = next(pair for pair in pairs if pair.label == "Parameters")
    assert parameters_pair.difference == summarize(b).total_params - summarize(a).total_params
    assert f"| {signed_difference(parameters_pair)} |" in headline
    assert fields == "| Field | A | B |\n|---|---|---|\n| `growth_rate` | `32` | `24` |"
    names = [trace["name"] for trace in json.loads(channels["plot"])["data"]]
    assert names[0] == "A (pinned)" and len(names) == 1 + len(b.block_layers)
    assert "A (pinned)" in [trace["name"] for trace in json.loads(stages["plot"])["data"]]


@pytest.mark.parametrize(
    "config_a, message",
    [
        ("growth_rate=lots", "config_a: growth_rate='lots' in the link could not be read"),
        ("densenet121", "config_a='densenet121' is not a configuration: allowed a JSON object"),
    ],
)
def test_compare_names_what_was_wrong_in_one_line(client, config_a, message):
    with pytest.raises(AppError) as error:
        client.predict(config_a, PRESETS["fashion"].to_dict(), 32, api_name="/compare")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_the_exports_read_back_as_the_configuration(client):
    config = dataclasses.replace(PRESETS["densenet-40"], growth_rate=10, block_layers=(4, 5, 6))
    values = list(controls_from_config(config, "densenet-40").values())
    table = client.predict(*values, api_name="/export_layer_table")
    with open(table, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    columns, expected = layer_table(summarize(config))
    assert rows == [columns] + [[str(value) for value in row] for row in expected]
    saved = client.predict(*values, api_name="/export_config")
    assert DenseNetConfig.from_dict(json.loads(Path(saved).read_text())) == config
    code = Path(client.predict(*values, api_name="/export_code")).read_text()
    assert code == config_code(config)


@pytest.mark.slow  # a Keras build
def test_the_built_model_downloads_as_a_keras_file_that_loads(client):
    import keras

    article = preset_controls("article").values()
    report, path = client.predict(*article, api_name="/export_keras")
    assert report.startswith("AGREE") and path.endswith("article.keras")
    assert (
        keras.saving.load_model(path).count_params() == summarize(PRESETS["article"]).total_params
    )


def test_summary_gives_programs_a_preset_with_overrides_as_json(client):
    from densenet_demo.architecture.presets import preset_with

    record = client.predict("fashion", {"growth_rate": 24}, 64, api_name="/summary")
    expected = summarize(preset_with("fashion", {"growth_rate": 24}))
    assert record["config"]["growth_rate"] == 24
    assert (record["total_params"], record["macs"]) == (expected.total_params, expected.macs)
    assert [row["label"] for row in record["figures"]] == [
        label for label, _ in headline(expected, 64)
    ]
    assert "growth_rate=24" in record["link_query"].split("&")
    with pytest.raises(AppError, match="growth_rate=0 is invalid: allowed an integer from 1"):
        client.predict("fashion", {"growth_rate": 0}, 64, api_name="/summary")
    with pytest.raises(AppError, match="preset='resnet' is unknown"):
        client.predict("resnet", None, 64, api_name="/summary")
