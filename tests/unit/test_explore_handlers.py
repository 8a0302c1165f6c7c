"""The Explore tab's handlers without a server: the downloads round-trip, and pinning A puts
B beside it until it is unpinned."""

import csv
import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl

import pytest

from densenet_demo import PRESETS, DenseNetConfig
from densenet_demo.architecture.controls import (
    BATCH_SIZE,
    CONTROLS,
    config_from_controls,
    controls_from_config,
    preset_controls,
)
from densenet_demo.architecture.report import layer_table
from densenet_demo.architecture.share import to_query
from densenet_demo.architecture.summary import summarize
from densenet_demo.ui import explore_tab, exports
from densenet_demo.ui.components import component_for

CUSTOM = dataclasses.replace(PRESETS["densenet-40"], growth_rate=10, block_layers=(4, 5, 6))


@pytest.fixture(autouse=True)
def gradio_cache(tmp_path, monkeypatch):
    """Gradio's cache folder, where the downloads are written, in a folder of the test's."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    return tmp_path


def controls(config, preset="densenet-40"):
    return controls_from_config(config, preset)


def test_the_csv_download_holds_the_layer_table(gradio_cache):
    path = Path(explore_tab.export_layer_table(**controls(CUSTOM)))
    assert path.name == "densenet-custom-layers.csv" and path.is_relative_to(gradio_cache)
    columns, rows = layer_table(summarize(CUSTOM))
    with open(path, newline="", encoding="utf-8") as file:
        assert list(csv.reader(file)) == [columns] + [[str(v) for v in row] for row in rows]


def test_the_json_download_reads_back_as_the_same_config():
    path = Path(explore_tab.export_config(**controls(PRESETS["article"], "article")))
    assert path.name == "article.json"
    assert DenseNetConfig.from_dict(json.loads(path.read_text())) == PRESETS["article"]


def test_the_json_download_opens_in_the_page_through_its_link():
    saved = json.loads(Path(explore_tab.export_config(**controls(CUSTOM))).read_text())
    link = to_query(DenseNetConfig.from_dict(saved))
    values = explore_tab.load_link(SimpleNamespace(query_params=dict(parse_qsl(link))))
    assert config_from_controls(values) == CUSTOM


def test_the_code_download_rebuilds_the_same_config():
    path = Path(explore_tab.export_code(**controls(CUSTOM)))
    scope = {}
    exec(path.read_text().split("model = ")[0], scope)
    assert path.suffix == ".py" and scope["config"] == CUSTOM


def test_the_same_download_twice_is_one_whole_file():
    first = explore_tab.export_config(**controls(CUSTOM))
    assert explore_tab.export_config(**controls(CUSTOM)) == first
    assert [p.name for p in Path(first).parent.iterdir()] == [Path(first).name]  # no leftovers


def test_the_page_downloads_follow_its_link():
    """The link is what the page's downloads are made from (see `page_files`)."""
    files = explore_tab.page_files("http://127.0.0.1:7860/?" + to_query(CUSTOM), None)
    nothing_pinned = {"__type__": "update", "value": "", "visible": False}
    assert files["differences"] == nothing_pinned
    assert DenseNetConfig.from_dict(json.loads(Path(files["json_file"]).read_text())) == CUSTOM
    assert Path(files["csv_file"]).name == "densenet-custom-layers.csv"
    assert files["code_file"].endswith(".py")


def test_a_download_of_a_refused_value_names_it():
    with pytest.raises(explore_tab.gr.Error, match="growth_rate=0 is invalid"):
        explore_tab.export_config(**{**controls(CUSTOM), "growth_rate": 0})


@pytest.mark.slow
def test_the_keras_download_loads_with_the_same_parameter_count():
    import keras

    built = explore_tab.export_keras(**preset_controls("article"))
    report, path = built["keras_summary"], built["keras_file"]
    assert report.startswith("AGREE") and Path(path).name == "article.keras"
    model = keras.saving.load_model(path)
    assert model.count_params() == summarize(PRESETS["article"]).total_params
    assert [p.name for p in Path(path).parent.iterdir()] == ["article.keras"]


# The page's events, as the browser sends them: raw values (the events skip preprocessing).
COMPONENTS = {control.name: component_for(control, None) for control in (*CONTROLS, BATCH_SIZE)}


def page(action, config, pinned, preset="densenet-40"):
    values = {**controls(config, preset), BATCH_SIZE.name: 32}
    return explore_tab.on_page(COMPONENTS, action)(None, pinned, **values)


def test_pinning_keeps_the_config_and_unpinning_returns_to_one():
    a = PRESETS["densenet121"]
    pinned = page("pin", a, None, "densenet121")
    assert pinned["pinned"] == a
    assert "| Figure | A | B | B − A | B / A |" in pinned["headline"]["value"]
    assert pinned["channel_growth"]["value"].data[0].name == "A (pinned)"
    assert pinned["unpin"]["visible"] and "growth_rate" not in pinned["differences"]["value"]

    b = dataclasses.replace(a, growth_rate=24)
    result = page("update", b, a)
    assert "pinned" not in result and "unpin" not in result  # left as they are
    headline_text, channels = result["headline"]["value"], result["channel_growth"]["value"]
    assert "**A** (pinned): `densenet121`" in headline_text
    parameters = f"| {summarize(a).total_params:,} ({summarize(a).total_params / 1e6:.2f} M) |"
    assert parameters in headline_text and f"{summarize(b).total_params:,}" in headline_text
    assert [trace.line.dash for trace in channels.data][:2] == ["dash", None]

    unpinned = page("unpin", b, a)
    assert unpinned["pinned"] is None and "| Figure | Value |" in unpinned["headline"]["value"]
    assert "A (pinned)" not in [trace.name for trace in unpinned["channel_growth"]["value"].data]
    assert not unpinned["unpin"]["visible"]


def test_a_refused_value_pins_nothing():
    values = {**controls(CUSTOM), "growth_rate": 0, BATCH_SIZE.name: 32}
    result = explore_tab.on_page(COMPONENTS, "pin")(None, None, **values)
    assert "pinned" not in result  # the pinned state is left as it was
    assert "**Not updated:** Growth rate k: Value 0 is less than" in result["refusal"]["value"]
    assert result["headline"] == {"__type__": "update", "elem_classes": ["stale"]}


@pytest.mark.slow
def test_only_the_newest_built_models_are_kept(gradio_cache):
    """Each is up to 200 MB: a run of builds must not fill the disk before the cache's hour."""
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    saved = [exports.model_file(model, CUSTOM) for _ in range(exports.MAX_KEPT_MODELS + 3)]
    kept = sorted(str(path) for path in (gradio_cache / "exports").glob("*/*.keras"))
    assert kept == sorted(saved[-exports.MAX_KEPT_MODELS :])
    assert len(list((gradio_cache / "exports").iterdir())) == exports.MAX_KEPT_MODELS
