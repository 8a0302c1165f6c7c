"""A saved run as the Train tab's table, its hover text and `/runs` show it: one record read
from the run's model card, the trainer's settings in today's names (a card written before a
setting was renamed still reads)."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from ..architecture.config import DenseNetConfig
from ..architecture.summary import summarize
from ..inference.runs import Run
from .trainer import saved_settings


@functools.lru_cache(maxsize=256)
def macs_of(config: DenseNetConfig) -> int:
    """A configuration's MACs per image; cached, as the runs table and charts redraw often."""
    return summarize(config).macs


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """A saved run's figures; `to_json` is what `/runs` returns, field for field."""

    run_id: str
    config: DenseNetConfig
    params: int
    macs: int  # per image
    epochs_done: int
    epochs: int | None  # given; fewer done: the run was cancelled
    train_images: int | None
    batch_size: int | None
    learning_rate: float | None  # peak
    val_accuracy: float | None  # after the last epoch done
    test_accuracy: float | None
    train_seconds: int | None
    images_per_second: float | None  # the mean of its epochs'

    @classmethod
    def of(cls, run: Run) -> RunRecord:
        card = run.card
        settings = saved_settings(card.settings or {})
        speeds = [
            row["images_per_second"] for row in card.history or () if "images_per_second" in row
        ]
        return cls(
            run_id=run.run_id,
            config=card.config,
            params=card.params,
            macs=macs_of(card.config),
            epochs_done=card.epochs,
            epochs=settings.get("epochs"),
            train_images=settings.get("train_images"),
            batch_size=settings.get("batch_size", card.batch_size),
            learning_rate=settings.get("learning_rate"),
            val_accuracy=card.final_val_accuracy,
            test_accuracy=card.test_accuracy,
            train_seconds=card.train_seconds,
            images_per_second=round(sum(speeds) / len(speeds), 1) if speeds else None,
        )

    @property
    def cancelled(self) -> bool:
        """Stopped before the epochs it was given."""
        return self.epochs is not None and self.epochs_done < self.epochs

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "config": self.config.to_dict()}


RUN_RECORD_FIELDS = tuple(field.name for field in dataclasses.fields(RunRecord))
_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "DenseNetConfig": "object"}


def _json_type(annotation: str) -> str | list[str]:
    kinds = [kind.strip() for kind in annotation.split("|")]
    types = [_JSON_TYPES[kind] for kind in kinds if kind != "None"]
    return [*types, "null"] if "None" in kinds else types[0]


# `to_json`'s JSON Schema, read from the fields' types (for the API's declared output).
RUN_RECORD_SCHEMA = {
    "type": "object",
    "properties": {
        field.name: {"type": _json_type(field.type)} for field in dataclasses.fields(RunRecord)
    },
    "required": list(RUN_RECORD_FIELDS),
}
