"""A training run killed mid-epoch resumes from its last checkpoint and finishes the schedule."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from densenet_demo.inference.card import ModelCard

from support import ROOT

pytestmark = pytest.mark.slow  # three short training runs
TINY = [
    "--preset",
    "fashion",
    "--block-layers",
    "1,1",
    "--growth-rate",
    "4",
    "--init-features",
    "8",
    "--epochs",
    "3",
    "--batch-size",
    "32",
    "--train-images",
    "6400",
    "--validation-size",
    "200",
]


def run_training(run_dir, weights_dir, *extra, **kwargs):
    command = [
        sys.executable,
        "-m",
        "densenet_demo",
        "train",
        *TINY,
        "--run-dir",
        str(run_dir),
        "--weights-dir",
        str(weights_dir),
        *extra,
    ]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        **kwargs,
    )


def epochs_done(run_dir):
    progress = run_dir / "progress.json"
    return json.loads(progress.read_text())["epochs_done"] if progress.exists() else 0


def test_killed_run_resumes_and_finishes_with_every_epoch_once(tmp_path):
    run_dir, weights_dir = tmp_path / "run", tmp_path / "weights"
    first = run_training(run_dir, weights_dir)
    deadline = time.monotonic() + 300
    while epochs_done(run_dir) < 1:
        assert first.poll() is None, first.stdout.read()
        assert time.monotonic() < deadline, "no epoch finished in 5 minutes"
        time.sleep(0.1)
    time.sleep(0.3)  # into the second epoch (200 steps: seconds long)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = epochs_done(run_dir)
    assert 1 <= killed_at < 3
    # As a checkpoint written before `train_images` named the count (train_limit, 0 = all):
    # it still resumes.
    progress = json.loads((run_dir / "progress.json").read_text())
    progress["settings"]["train_limit"] = progress["settings"].pop("train_images")
    (run_dir / "progress.json").write_text(json.dumps(progress))

    refused = run_training(run_dir, weights_dir)  # no --resume: the checkpoint is kept safe
    assert refused.wait(timeout=300) == 2
    assert "pass --resume" in refused.stdout.read()

    resumed = run_training(run_dir, weights_dir, "--resume")
    output = resumed.communicate(timeout=600)[0]
    assert resumed.returncode == 0, output
    assert f"resuming {run_dir} after epoch {killed_at}/3" in output
    with open(run_dir / "log.csv") as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == [1, 2, 3]
    card = ModelCard.read(weights_dir / "fashion.json")
    assert card.epochs == 3 and card.test_images == 10_000
    assert card.settings["train_images"] == 6400 and "train_limit" not in card.settings
    assert sum(map(sum, card.confusion_matrix)) == 10_000
