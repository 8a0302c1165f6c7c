"""The Train tab's handlers without a server: what a click on Train will do, said before it;
the variant link; a run's download; and refusals in one sentence."""

import json
import shutil
import zipfile
from pathlib import Path

import gradio as gr
import pytest

from densenet_demo import PRESETS
from densenet_demo.architecture.share import read_config, to_query
from densenet_demo.inference.classifier import load_classifier
from densenet_demo.inference.runs import saved_runs
from densenet_demo.training.budget import BUDGET_CONTROLS, small_variant
from densenet_demo.ui import exports
from densenet_demo.ui.train_tab import TrainHandlers

from support import EXAMPLE, ROOT

BUDGET = [control.default for control in BUDGET_CONTROLS]
RUN_ID = "run-20261201-093000-1a2b"


@pytest.fixture(autouse=True)
def gradio_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "cache"))


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """A runs folder holding one run: the shipped model's files under a run id."""
    root = tmp_path / "runs"
    folder = root / RUN_ID
    folder.mkdir(parents=True)
    card = json.loads((ROOT / "weights" / "fashion.json").read_text())
    card.pop("domain_check")
    names = ("weights_file", "litert_file", "mistakes_file")
    for field in names:
        shutil.copy(ROOT / "weights" / card[field], folder / card[field].replace("fashion", RUN_ID))
        card[field] = card[field].replace("fashion", RUN_ID)
    (folder / f"{RUN_ID}.json").write_text(json.dumps({**card, "name": RUN_ID}))
    monkeypatch.setenv("DENSENET_RUNS_DIR", str(root))
    return root


def link(config):
    return "?" + to_query(config)


def test_a_configuration_that_cannot_take_28_px_is_planned_as_its_variant():
    plan = TrainHandlers(None, None).plan_on_page(link(PRESETS["densenet121"]), False, *BUDGET)
    text, as_set, variant_button = plan["plan"], plan["as_set"], plan["show_variant"]
    assert text.startswith("**Explore's configuration is not trained as set:** its 'imagenet' stem")
    assert "BC k=12 4-4-4 article stem (110,610 parameters" in text
    assert variant_button["visible"] and not as_set["visible"]


def test_a_quick_configuration_is_planned_as_set_with_its_time():
    plan = TrainHandlers(None, None).plan_on_page(link(PRESETS["fashion"]), False, *BUDGET)
    text, variant_button = plan["plan"], plan["show_variant"]
    assert text.startswith("**Will train** BC k=16 8-8-8 article stem as set in Explore")
    assert "477,082 parameters" in text and "20,000 images × 3 epochs" in text
    assert not variant_button["visible"]


def test_a_slow_configuration_offers_to_train_it_as_set():
    budget = [55_000, 30, *BUDGET[2:]]
    plan = TrainHandlers(None, None).plan_on_page(link(PRESETS["densenet-bc-100"]), False, *budget)
    assert "it would take about" in plan["plan"] and plan["as_set"]["visible"]
    plan = TrainHandlers(None, None).plan_on_page(link(PRESETS["densenet-bc-100"]), True, *budget)
    assert plan["plan"].startswith("**Will train**")


def test_a_bad_budget_value_is_said_in_the_plan():
    plan = TrainHandlers(None, None).plan_on_page(
        link(PRESETS["fashion"]), False, 20_000, 0, 128, 0.1
    )
    refusal = "epochs=0 is invalid: allowed an integer from 1 to 100"
    assert plan["plan"] == f"**Nothing to train:** {refusal}."


def test_the_variant_link_opens_the_small_variant():
    variant_link = TrainHandlers(None, None).variant_link(link(PRESETS["densenet121"]))
    assert read_config(variant_link) == small_variant(PRESETS["densenet121"])


def test_training_off_refuses_in_one_sentence():
    with pytest.raises(gr.Error, match="Training is turned off on this server"):
        next(TrainHandlers(None, None).train(PRESETS["fashion"].to_dict(), *BUDGET))


def test_a_run_downloads_as_one_zip_that_loads_as_a_run_folder(runs_dir, tmp_path):
    [run] = saved_runs()
    path = Path(exports.run_file(run))
    assert path.name == f"{RUN_ID}.zip"
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        archive.extractall(tmp_path / "unzipped")
    card = run.card
    assert names == sorted(
        f"{RUN_ID}/{name}"
        for name in (f"{RUN_ID}.json", card.weights_file, card.litert_file, card.mistakes_file)
    )
    classifier = load_classifier(tmp_path / "unzipped" / RUN_ID)
    assert classifier.card.name == RUN_ID and len(classifier.predict(EXAMPLE, 3)) == 3
    assert exports.run_file(run) == str(path)  # the same run is the same file


def test_classify_with_a_run_puts_it_in_the_menu_and_opens_the_tab(runs_dir):
    shown = TrainHandlers(None, None).classify_with(RUN_ID)
    menu, about, tabs = shown["model"], shown["about_model"], shown["tabs"]
    assert menu["value"] == RUN_ID and (f"Run {RUN_ID}", RUN_ID) in menu["choices"]
    assert f"run **{RUN_ID}** of the Train tab" in about["value"]
    assert tabs.selected == "classify"


def test_classify_with_a_run_that_is_not_saved_is_refused(runs_dir):
    with pytest.raises(gr.Error, match="is not among the saved runs"):
        TrainHandlers(None, None).classify_with("run-20200101-000000-0000")


def test_the_runs_api_gives_each_runs_figures(runs_dir):
    [record] = TrainHandlers(None, None).runs()
    assert record["run_id"] == RUN_ID and record["params"] == 477_082
    assert record["epochs_done"] == record["epochs"] and record["train_images"] == 55_000


def test_the_runs_table_shows_the_record_the_runs_api_gives(runs_dir):
    handlers = TrainHandlers(None, None)
    [record] = handlers.runs()
    table = handlers.runs_views()["table"]
    [row] = [dict(zip(table["headers"], row, strict=True)) for row in table["value"]]
    assert row["Run"] == record["run_id"] and row["Parameters"] == f"{record['params']:,}"
    assert row["Training images"] == f"{record['train_images']:,}" == "55,000"
