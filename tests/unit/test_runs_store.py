"""The runs folder: run ids checked before they become paths, only runs with a valid card
listed, the oldest removed beyond the kept count; each run's record read from its card."""

import json

import jsonschema
import pytest

from densenet_demo.inference import runs
from densenet_demo.inference.runs import (
    is_run_id,
    new_run_id,
    remove_oldest,
    run_folder,
    saved_run,
    saved_runs,
)
from densenet_demo.training.run_record import RUN_RECORD_FIELDS, RUN_RECORD_SCHEMA, RunRecord

from support import ROOT

SHIPPED_CARD = json.loads((ROOT / "weights" / "fashion.json").read_text())


def make_run(root, run_id, epochs=2, given=2, **settings):
    """A run folder holding the shipped card renamed (its settings as written before
    `train_images`: `train_limit` 0, all the images), `settings` changed (None: left out)."""
    folder = root / run_id
    folder.mkdir(parents=True)
    card = {**SHIPPED_CARD, "name": run_id, "epochs": epochs}
    changed = {**card["settings"], "epochs": given, "name": run_id, **settings}
    card["settings"] = {name: value for name, value in changed.items() if value is not None}
    (folder / f"{run_id}.json").write_text(json.dumps(card))
    return folder


def test_new_run_ids_are_run_ids_and_differ():
    ids = {new_run_id() for _ in range(20)}
    assert len(ids) == 20 and all(is_run_id(run_id) for run_id in ids)


@pytest.mark.parametrize(
    "value", ["../etc", "run-20261201-093000-1a2b/..", "/tmp/run-x", "fashion", "", None, 3]
)
def test_a_value_that_is_not_a_run_id_never_becomes_a_path(value, tmp_path):
    assert not is_run_id(value)
    with pytest.raises(ValueError, match="is not a run id"):
        run_folder(value, tmp_path)


def test_a_run_id_not_saved_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is not among the saved runs"):
        run_folder("run-20261201-093000-1a2b", tmp_path)


def test_saved_runs_lists_valid_cards_newest_first(tmp_path):
    make_run(tmp_path, "run-20261201-090000-aaaa")
    make_run(tmp_path, "run-20261201-100000-bbbb", epochs=1, given=3)
    (tmp_path / "run-20261201-110000-cccc").mkdir()  # still training: no card
    damaged = make_run(tmp_path, "run-20261201-120000-dddd")
    (damaged / "run-20261201-120000-dddd.json").write_text("{")
    listed = saved_runs(tmp_path)
    assert [run.run_id for run in listed] == [
        "run-20261201-100000-bbbb",
        "run-20261201-090000-aaaa",
    ]
    assert [RunRecord.of(run).cancelled for run in listed] == [True, False]
    assert run_folder("run-20261201-090000-aaaa", tmp_path) == tmp_path / "run-20261201-090000-aaaa"


def test_the_oldest_runs_beyond_the_kept_count_are_removed(tmp_path):
    for hour in range(10, 15):
        make_run(tmp_path, f"run-20261201-{hour}0000-abcd")
    removed = remove_oldest(tmp_path, keep=3)
    assert removed == ["run-20261201-110000-abcd", "run-20261201-100000-abcd"]
    assert len(saved_runs(tmp_path)) == 3 and not (tmp_path / removed[0]).exists()


def test_the_runs_folder_and_kept_count_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DENSENET_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv("DENSENET_RUNS_KEEP", "7")
    assert runs.runs_dir() == tmp_path and runs.runs_kept() == 7
    monkeypatch.setenv("DENSENET_RUNS_KEEP", "none")
    assert runs.runs_kept() == runs.DEFAULT_KEEP


def test_one_saved_run_is_read_by_id_and_a_damaged_card_refused(tmp_path):
    make_run(tmp_path, "run-20261201-090000-aaaa")
    run = saved_run("run-20261201-090000-aaaa", tmp_path)
    assert run.card.name == "run-20261201-090000-aaaa" and not RunRecord.of(run).cancelled
    damaged = make_run(tmp_path, "run-20261201-120000-dddd")
    (damaged / "run-20261201-120000-dddd.json").write_text("{")
    with pytest.raises(ValueError, match="is not a valid model card"):
        saved_run("run-20261201-120000-dddd", tmp_path)


def test_a_run_record_reads_the_image_count_of_a_card_written_before_train_images(tmp_path):
    assert SHIPPED_CARD["settings"]["train_limit"] == 0  # the shipped card: all the images
    make_run(tmp_path, "run-20261201-090000-aaaa")
    make_run(tmp_path, "run-20261201-100000-bbbb", train_limit=640)
    make_run(tmp_path, "run-20261201-110000-cccc", train_limit=None, train_images=2_000)  # today
    counts = [RunRecord.of(run).train_images for run in saved_runs(tmp_path)]
    assert counts == [2_000, 640, 55_000]


def test_a_run_record_as_json_is_its_fields_with_the_config_as_an_object(tmp_path):
    make_run(tmp_path, "run-20261201-090000-aaaa", epochs=1, given=3)
    record = RunRecord.of(saved_run("run-20261201-090000-aaaa", tmp_path)).to_json()
    assert tuple(record) == RUN_RECORD_FIELDS
    assert record["config"] == SHIPPED_CARD["config"]
    assert (record["epochs_done"], record["epochs"], record["params"]) == (
        1,
        3,
        SHIPPED_CARD["params"],
    )
    assert record["val_accuracy"] == SHIPPED_CARD["final_val_accuracy"]
    jsonschema.validate(record, RUN_RECORD_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):  # the schema says what it gives
        jsonschema.validate({**record, "train_images": "all"}, RUN_RECORD_SCHEMA)
