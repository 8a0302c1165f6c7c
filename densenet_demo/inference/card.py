"""The model card: what a trained model is, how it was trained and tested, and the SHA-256 of
the files it vouches for. One typed class reads and writes it; a malformed or incomplete card
is refused in one sentence naming the field.

The same class describes Keras' published ImageNet models (built in code, never read from a
file); the fields only a model trained here has are None for them.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..architecture.config import DenseNetConfig, short_repr
from .domain import DomainCheck
from .feature_reuse import reuse_from_card
from .model_inputs import MODEL_INPUTS


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """How an upload becomes the network's input: the transform (`kind`, a key of
    `MODEL_INPUTS`), then (pixels * scale - mean) / std, scalars or one value per channel."""

    kind: str
    input: str  # in words, for people
    scale: float
    mean: float | tuple[float, ...]
    std: float | tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class MirrorAverage:
    """Whether the model's probabilities are averaged with those of the picture's left-right
    mirror image (the training flipped half its images), and the validation accuracies it was
    chosen by, at export: used only where it raised accuracy on the held-out training images,
    never chosen on the test set."""

    used: bool
    validation_images: int
    accuracy_alone: float
    accuracy_averaged: float

    @classmethod
    def from_dict(cls, values: Any) -> MirrorAverage:
        """`ValueError` (with no message of its own) unless the card's values fit."""
        names = [field.name for field in dataclasses.fields(cls)]
        if not isinstance(values, dict) or set(values) != set(names):
            raise ValueError("")
        if not isinstance(values["used"], bool):
            raise ValueError("")
        return cls(
            values["used"],
            _integer(values["validation_images"]),
            _fraction(values["accuracy_alone"]),
            _fraction(values["accuracy_averaged"]),
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelCard:
    """A model's card, field for field as it is stored (JSON, beside the weights)."""

    name: str
    config: DenseNetConfig
    class_names: tuple[str, ...]
    preprocessing: Preprocessing
    # Measured once on the test set, after training (None for published models):
    test_accuracy: float | None = None
    test_images: int | None = None
    per_class_accuracy: dict[str, float] | None = None
    confusion_matrix: tuple[tuple[int, ...], ...] | None = None  # rows: the true class
    params: int
    # How it was trained:
    epochs: int | None = None
    batch_size: int | None = None
    seed: int | None = None
    settings: dict[str, Any] | None = None
    validation: str | None = None  # what final_val_accuracy was measured on
    final_val_accuracy: float | None = None
    history: tuple[dict[str, Any], ...] | None = None  # one row per epoch
    command: str | None = None
    train_seconds: int | None = None
    hardware: dict[str, Any] | None = None
    weights_file: str
    weights_sha256: str | None = None
    command_note: str | None = None
    mistakes_file: str | None = None  # the misclassified test images, beside the card
    mistakes_sha256: str | None = None
    domain_check: DomainCheck | None = None  # flags uploads unlike the training data
    # Predictions (and the test figures above) averaged with the mirror image's, or not:
    mirror_average: MirrorAverage | None = None
    # The network converted to LiteRT (`inference.litert`), beside the card: served without
    # TensorFlow, so the app starts in seconds.
    litert_file: str | None = None
    litert_sha256: str | None = None
    # Mean |weight| per (source, reader) of each dense block (`inference.feature_reuse`),
    # measured from the weights once, so that the Model tab needs no Keras.
    feature_reuse: tuple[tuple[tuple[float | None, ...], ...], ...] | None = None
    # Published models (Keras' ImageNet weights):
    title: str | None = None
    about: str | None = None
    weights_url: str | None = None
    weights_md5: str | None = None

    @classmethod
    def from_json(cls, text: str, source: str | Path = "the model card") -> ModelCard:
        """A card this project wrote (`to_json`), checked field by field.

        Raises `ValueError`, one sentence naming `source` and the field, for anything missing,
        of the wrong type or inconsistent (class count, confusion matrix size).
        """

        def refuse(reason: str) -> ValueError:
            return ValueError(f"{source} is not a valid model card: {reason}.")

        try:
            values = json.loads(text)
        except ValueError:
            raise refuse("it is not JSON") from None
        if not isinstance(values, dict):
            raise refuse("it is not a JSON object")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise refuse(f"field {unknown[0]!r} is unknown")
        fields: dict[str, Any] = {}
        for name, (check, what, required) in _SCHEMA.items():
            if name not in values:
                if required:
                    raise refuse(f"field {name!r} is missing")
                continue
            value = values[name]
            try:
                fields[name] = check(value)
            except (ValueError, TypeError) as error:
                detail = f" ({error})" if str(error) else ""
                raise refuse(
                    f"field {name!r} must be {what}, not {short_repr(value)}{detail}"
                ) from None
        card = cls(**fields)
        card._check_consistency(refuse)
        return card

    def _check_consistency(self, refuse: Callable[[str], ValueError]) -> None:
        classes = len(self.class_names)
        if classes != self.config.num_classes:
            raise refuse(
                f"field 'class_names' has {classes} names for a config with "
                f"{self.config.num_classes} classes"
            )
        if self.confusion_matrix is not None and (
            len(self.confusion_matrix) != classes
            or any(len(row) != classes for row in self.confusion_matrix)
        ):
            raise refuse(f"field 'confusion_matrix' must be {classes} x {classes}")
        for file in ("mistakes", "litert"):
            if (getattr(self, f"{file}_file") is None) != (getattr(self, f"{file}_sha256") is None):
                raise refuse(f"fields '{file}_file' and '{file}_sha256' come together")
        if self.feature_reuse is not None:
            try:
                reuse_from_card(self.feature_reuse, self.config)
            except ValueError as error:
                raise refuse(f"field 'feature_reuse' does not fit the config: {error}") from None
        for name in ("mean", "std"):
            value = getattr(self.preprocessing, name)
            if isinstance(value, tuple) and len(value) != self.config.input_shape[-1]:
                raise refuse(
                    f"field 'preprocessing' has a {name} of {len(value)} values for "
                    f"{self.config.input_shape[-1]} channels"
                )

    @property
    def mirror_averaged(self) -> bool:
        """Whether predictions average the picture's probabilities with its mirror image's."""
        return self.mirror_average is not None and self.mirror_average.used

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        """`from_json` of a card file."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"), path)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values in field order; fields that are None are left out."""
        values: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None:
                continue
            if isinstance(value, DenseNetConfig):
                value = value.to_dict()
            elif isinstance(value, (DomainCheck, MirrorAverage)):
                value = dataclasses.asdict(value)
            elif isinstance(value, Preprocessing):
                value = {
                    key: list(item) if isinstance(item, tuple) else item
                    for key, item in dataclasses.asdict(value).items()
                }
            elif isinstance(value, tuple):
                value = _plain(value)
            values[field.name] = value
        return values

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1) + "\n"


def _plain(value: Any) -> Any:
    """Nested tuples as JSON lists."""
    return [_plain(item) for item in value] if isinstance(value, tuple) else value


# Readers of the stored values: each returns the typed value or raises ValueError/TypeError.


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("")
    return float(value)


def _fraction(value: Any) -> float:
    if not 0.0 <= _number(value) <= 1.0:
        raise ValueError("")
    return float(value)


def _optional_fraction(value: Any) -> float | None:
    return None if value is None else _fraction(value)


def _object(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError("")
    return value


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("")
    return tuple(_text(name) for name in value)


def _fractions_by_name(value: Any) -> dict[str, float]:
    return {_text(name): _fraction(share) for name, share in _object(value).items()}


def _count_matrix(value: Any) -> tuple[tuple[int, ...], ...]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise ValueError("")
    return tuple(tuple(_integer(count) for count in row) for row in value)


def _epochs(value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list):
        raise ValueError("")
    return tuple(_object(row) for row in value)


def _matrices(value: Any) -> tuple[tuple[tuple[float | None, ...], ...], ...]:
    def cell(item: Any) -> float | None:
        return None if item is None else _number(item)

    return tuple(tuple(tuple(map(cell, row)) for row in matrix) for matrix in value)


def _config(value: Any) -> DenseNetConfig:
    return DenseNetConfig.from_dict(_object(value))


def _per_channel(value: Any) -> float | tuple[float, ...]:
    return tuple(map(_number, value)) if isinstance(value, list) else _number(value)


def _preprocessing(value: Any) -> Preprocessing:
    values = _object(value)
    missing = [
        field.name for field in dataclasses.fields(Preprocessing) if field.name not in values
    ]
    if missing:
        raise ValueError(f"{missing[0]!r} is missing")
    if values["kind"] not in MODEL_INPUTS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, MODEL_INPUTS))}")
    return Preprocessing(
        kind=values["kind"],
        input=_text(values["input"]),
        scale=_number(values["scale"]),
        mean=_per_channel(values["mean"]),
        std=_per_channel(values["std"]),
    )


# field: (reader, what it must be, required in a stored card)
_SCHEMA: dict[str, tuple[Callable[[Any], Any], str, bool]] = {
    "name": (_text, "a name", True),
    "config": (_config, "a DenseNetConfig as a JSON object", True),
    "class_names": (_names, "a list of class names", True),
    "preprocessing": (_preprocessing, "an object with kind, input, scale, mean and std", True),
    "test_accuracy": (_fraction, "a fraction from 0 to 1", True),
    "test_images": (_integer, "a count", True),
    "per_class_accuracy": (_fractions_by_name, "fractions by class name", True),
    "confusion_matrix": (_count_matrix, "a list of rows of counts", True),
    "params": (_integer, "a count", True),
    "epochs": (_integer, "a count", True),
    "batch_size": (_integer, "a count", True),
    "seed": (_integer, "an integer", True),
    "settings": (_object, "a JSON object", True),
    "validation": (_text, "a sentence", True),
    "final_val_accuracy": (_optional_fraction, "a fraction from 0 to 1", True),
    "history": (_epochs, "a list of per-epoch objects", True),
    "command": (_text, "a command line", True),
    "train_seconds": (_integer, "a whole number of seconds", True),
    "hardware": (_object, "a JSON object", True),
    "weights_file": (_text, "a file name", True),
    "weights_sha256": (_text, "a hex SHA-256", True),
    "command_note": (_text, "a sentence", False),
    "mistakes_file": (_text, "a file name", False),
    "mistakes_sha256": (_text, "a hex SHA-256", False),
    "domain_check": (
        DomainCheck.from_dict,
        "an object with threshold, validation_images, clothing_flagged, photos_flagged, "
        "caught, statistics_file and statistics_sha256",
        False,
    ),
    "mirror_average": (
        MirrorAverage.from_dict,
        "an object with used (true or false), validation_images, accuracy_alone and "
        "accuracy_averaged",
        False,
    ),
    "litert_file": (_text, "a file name", False),
    "litert_sha256": (_text, "a hex SHA-256", False),
    "feature_reuse": (_matrices, "a list of matrices of numbers (null where unread)", False),
    "title": (_text, "a title", False),
    "about": (_text, "a sentence", False),
    "weights_url": (_text, "a URL", False),
    "weights_md5": (_text, "a hex MD5", False),
}
