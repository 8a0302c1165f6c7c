"""The runs the Train tab saved: one folder per run under the runs folder, holding the run's
checkpoint while it trains and, once it ended, its model card `<run id>.json` with the files
the card vouches for. A folder without a valid card is a run still training (or one a stopped
server left behind): never listed, never served.

Reading only; `training.jobs` writes runs. A run id reaches this module from API callers, so
it is checked against its pattern before it becomes a path.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
import secrets
import shutil
from pathlib import Path

from .card import ModelCard, card_path

RUNS_VARIABLE = "DENSENET_RUNS_DIR"
DEFAULT_RUNS_DIR = Path.home() / ".cache" / "densenet-explorer" / "train-tab-runs"
KEEP_VARIABLE = "DENSENET_RUNS_KEEP"
DEFAULT_KEEP = 50  # the oldest finished runs beyond this many are removed
_RUN_ID = re.compile(r"run-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}")  # ASCII: \d takes any script's digits


def runs_dir() -> Path:
    """The runs folder: `DENSENET_RUNS_DIR`, else a folder in the user's cache."""
    return Path(os.environ.get(RUNS_VARIABLE) or DEFAULT_RUNS_DIR)


def runs_kept() -> int:
    """How many finished runs are kept (`DENSENET_RUNS_KEEP`, default 50)."""
    value = os.environ.get(KEEP_VARIABLE, "")
    if not value.isdigit() or int(value) < 1:
        return DEFAULT_KEEP
    return int(value)


def new_run_id() -> str:
    """`run-YYYYMMDD-HHMMSS-xxxx`: sorts by start time; the random tail tells apart runs
    started in the same second."""
    now = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"run-{now}-{secrets.token_hex(2)}"


def is_run_id(value) -> bool:
    return isinstance(value, str) and _RUN_ID.fullmatch(value) is not None


def run_folder(run_id, root: Path | None = None) -> Path:
    """The folder of run `run_id`; `ValueError` in one sentence for a value that is not a run
    id (never a path) or a run that is not there."""
    if not is_run_id(run_id):
        raise ValueError(
            f"{str(run_id)[:60]!r} is not a run id: a run id looks like run-20261201-093000-1a2b"
        )
    folder = (root or runs_dir()) / run_id
    if not card_path(folder, run_id).is_file():
        raise ValueError(f"run {run_id} is not among the saved runs (it may have been removed)")
    return folder


@dataclasses.dataclass(frozen=True)
class Run:
    """A saved run: its id, folder and model card (`training.run_record` reads its figures)."""

    run_id: str
    folder: Path
    card: ModelCard


def saved_run(run_id, root: Path | None = None) -> Run:
    """One saved run by id; `ValueError` in one sentence as `run_folder` says, or when its card
    is not valid."""
    folder = run_folder(run_id, root)
    return Run(run_id, folder, ModelCard.read(card_path(folder, run_id)))


def saved_runs(root: Path | None = None) -> list[Run]:
    """Every run with a valid card, newest first."""
    root = root or runs_dir()
    runs = []
    for folder in sorted(root.glob("run-*"), reverse=True):
        card_file = card_path(folder, folder.name)
        if not is_run_id(folder.name) or not card_file.is_file():
            continue
        try:
            runs.append(Run(folder.name, folder, ModelCard.read(card_file)))
        except (ValueError, OSError):
            continue  # damaged or half-copied by hand: not a run to show or serve
    return runs


def remove_oldest(root: Path | None = None, keep: int | None = None) -> list[str]:
    """Delete the saved runs beyond the newest `keep` (default `runs_kept()`); their ids."""
    removed = [run.run_id for run in saved_runs(root)[keep or runs_kept() :]]
    for run_id in removed:
        shutil.rmtree((root or runs_dir()) / run_id, ignore_errors=True)
    return removed
