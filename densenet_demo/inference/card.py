"""The model card: what a trained model is, how it was trained and tested, and the SHA-256 of
the files it vouches for. One typed class reads and writes it; a malformed or incomplete card
is refused in one sentence naming the field.

Each field is described once, where it is declared: its reader and what it must be
(`_field`); the records nested in a card are read and described from their own fields.

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

from ..architecture.config import DenseNetConfig, check_integer, invalid
from ..files import write_atomically
from .feature_reuse import reuse_from_card
from .model_inputs import MODEL_INPUTS


def card_path(folder: str | Path, name: str) -> Path:
    """Where the card of model `name` lies: `<folder>/<name>.json`, beside its weights."""
    return Path(folder) / f"{name}.json"


# A field's reader takes (its name, the stored JSON value) and returns the typed value. It
# raises ValueError with the whole sentence, or with none (or TypeError) for the card to say
# "<name>=<value> is invalid: allowed <doc>".
Reader = Callable[[str, Any], Any]


def _field(read: Reader, doc: str, *, stored: bool = True, default: Any = dataclasses.MISSING):
    """A card field: its `read`er, `doc` (what it must be, in words) and whether a stored
    card must have it (`stored`; the published models' cards, built in code, lack some)."""
    return dataclasses.field(default=default, metadata={"read": read, "doc": doc, "stored": stored})


def _read_fields(record: type, values: Any, prefix: str = "") -> dict[str, Any]:
    """The typed fields of the dataclass `record` from its stored values; `ValueError` names
    (after `prefix`) the first field that is unknown, missing or does not fit."""
    fields = {field.name: field for field in dataclasses.fields(record)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"field '{prefix}{unknown[0]}' is unknown")
    typed = {}
    for name, field in fields.items():
        if name not in values:
            if field.metadata["stored"]:
                raise ValueError(f"field '{prefix}{name}' is missing")
            continue
        value = values[name]
        try:
            typed[name] = field.metadata["read"](prefix + name, value)
        except (ValueError, TypeError) as error:
            if isinstance(error, ValueError) and str(error):
                raise
            raise invalid(prefix + name, value, field.metadata["doc"]) from None
    return typed


def _record_doc(record: type) -> str:
    """What a nested record must be, from its fields."""
    names = [field.name for field in dataclasses.fields(record)]
    return f"an object with {', '.join(names[:-1])} and {names[-1]}"


def _record(record: type) -> Reader:
    """The reader of a record nested in the card (its fields are `_field`s)."""

    def read(name: str, value: Any) -> Any:
        if not isinstance(value, dict):
            raise invalid(name, value, _record_doc(record))
        return record(**_read_fields(record, value, f"{name}."))

    return read


def _nested(record: type, *, stored: bool = True, default: Any = dataclasses.MISSING):
    """A `_field` holding a nested record, described by its fields."""
    return _field(_record(record), _record_doc(record), stored=stored, default=default)


# Readers of the stored values (see `Reader`).


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError
    return value


def _count(name: str, value: Any) -> int:
    return check_integer(name, value, 0)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError
    return float(value)


def _fraction(name: str, value: Any) -> float:
    if not 0.0 <= _number(name, value) <= 1.0:
        raise ValueError
    return float(value)


def _optional_fraction(name: str, value: Any) -> float | None:
    return None if value is None else _fraction(name, value)


def _object(name: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError
    return value


def _names(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError
    return tuple(_text(name, item) for item in value)


def _fractions_by_name(name: str, value: Any) -> dict[str, float]:
    return {_text(name, key): _fraction(name, share) for key, share in _object(name, value).items()}


def _count_matrix(name: str, value: Any) -> tuple[tuple[int, ...], ...]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise ValueError
    return tuple(tuple(_count(name, count) for count in row) for row in value)


def _epochs(name: str, value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list):
        raise ValueError
    return tuple(_object(name, row) for row in value)


def _matrices(name: str, value: Any) -> tuple[tuple[tuple[float | None, ...], ...], ...]:
    def cell(item: Any) -> float | None:
        return None if item is None else _number(name, item)

    return tuple(tuple(tuple(map(cell, row)) for row in matrix) for matrix in value)


def _config(name: str, value: Any) -> DenseNetConfig:
    try:
        return DenseNetConfig.from_dict(_object(name, value))
    except ValueError as error:
        if not str(error):
            raise
        raise ValueError(f"{name}: {error}") from None


def _per_channel(name: str, value: Any) -> float | tuple[float, ...]:
    if isinstance(value, list):
        return tuple(_number(name, item) for item in value)
    return _number(name, value)


def _model_input(name: str, value: Any) -> str:
    if value not in MODEL_INPUTS:
        raise ValueError
    return value


_SHA256 = "a hex SHA-256"


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """How an upload becomes the network's input: the transform (`kind`), then
    (pixels * scale - mean) / std, scalars or one value per channel."""

    kind: str = _field(_model_input, "one of " + ", ".join(map(repr, MODEL_INPUTS)))
    input: str = _field(_text, "a description for people")
    scale: float = _field(_number, "a number")
    mean: float | tuple[float, ...] = _field(_per_channel, "a number, or a list of one per channel")
    std: float | tuple[float, ...] = _field(_per_channel, "a number, or a list of one per channel")


@dataclasses.dataclass(frozen=True)
class MirrorAverage:
    """Whether the model's probabilities are averaged with those of the picture's left-right
    mirror image (the training flipped half its images), and the validation accuracies it was
    chosen by, at export: used only where it raised accuracy on the held-out training images,
    never chosen on the test set."""

    used: bool = _field(_flag, "true or false")
    validation_images: int = _field(_count, "a count")
    accuracy_alone: float = _field(_fraction, "a fraction from 0 to 1")
    accuracy_averaged: float = _field(_fraction, "a fraction from 0 to 1")


@dataclasses.dataclass(frozen=True)
class DomainCheck:
    """The card's out-of-domain check (`inference.domain`): flag an upload whose feature
    distance (squared Mahalanobis, to the nearest class) is above `threshold`; the rates are
    those measured when it was chosen."""

    threshold: float = _field(_number, "a number")
    # The held-out training images it was chosen on, their share above it, and the share of
    # them flagged when shown as photos (dark on light):
    validation_images: int = _field(_count, "a count")
    clothing_flagged: float = _field(_fraction, "a fraction from 0 to 1")
    photos_flagged: float = _field(_fraction, "a fraction from 0 to 1")
    # The share flagged, per kind of non-clothing picture:
    caught: dict[str, float] = _field(_fractions_by_name, "fractions by kind of picture")
    # The class means and shared precision matrix, beside the card:
    statistics_file: str = _field(_text, "a file name")
    statistics_sha256: str = _field(_text, _SHA256)

    def flags(self, distance: float) -> bool:
        """Whether a picture at this feature distance looks out of the model's domain."""
        return distance > self.threshold

    def sentence(self, suggestion: str) -> str:
        """One sentence for a flagged picture, `suggestion` saying what to try instead."""
        return (
            "This picture does not look like the clothing this model knows: what it sees in it "
            f"lies farther from every kind it learned than for {1 - self.clothing_flagged:.0%} "
            f"of real clothing images, so its labels are likely wrong; {suggestion}."
        )


# Fields a published model's card (built in code) lacks but a stored card must have, and
# fields a stored card may lack too.
_TRAINED = {"default": None}
_OPTIONAL = {"default": None, "stored": False}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelCard:
    """A model's card, field for field as it is stored (JSON, beside the weights)."""

    name: str = _field(_text, "a name")
    config: DenseNetConfig = _field(_config, "a DenseNetConfig as a JSON object")
    class_names: tuple[str, ...] = _field(_names, "a list of class names")
    preprocessing: Preprocessing = _nested(Preprocessing)
    # Measured once on the test set, after training:
    test_accuracy: float | None = _field(_fraction, "a fraction from 0 to 1", **_TRAINED)
    test_images: int | None = _field(_count, "a count", **_TRAINED)
    per_class_accuracy: dict[str, float] | None = _field(
        _fractions_by_name, "fractions by class name", **_TRAINED
    )
    confusion_matrix: tuple[tuple[int, ...], ...] | None = _field(
        _count_matrix, "a list of rows of counts, a row per true class", **_TRAINED
    )
    params: int = _field(_count, "a count")
    # How it was trained:
    epochs: int | None = _field(_count, "a count", **_TRAINED)
    batch_size: int | None = _field(_count, "a count", **_TRAINED)
    seed: int | None = _field(_count, "an integer", **_TRAINED)
    settings: dict[str, Any] | None = _field(_object, "a JSON object", **_TRAINED)
    validation: str | None = _field(
        _text, "a sentence: what final_val_accuracy was measured on", **_TRAINED
    )
    final_val_accuracy: float | None = _field(
        _optional_fraction, "a fraction from 0 to 1, or null", **_TRAINED
    )
    history: tuple[dict[str, Any], ...] | None = _field(
        _epochs, "a list of per-epoch objects", **_TRAINED
    )
    command: str | None = _field(_text, "a command line", **_TRAINED)
    train_seconds: int | None = _field(_count, "a whole number of seconds", **_TRAINED)
    hardware: dict[str, Any] | None = _field(_object, "a JSON object", **_TRAINED)
    weights_file: str = _field(_text, "a file name")
    weights_sha256: str | None = _field(_text, _SHA256, **_TRAINED)
    command_note: str | None = _field(_text, "a sentence", **_OPTIONAL)
    # The misclassified test images, beside the card:
    mistakes_file: str | None = _field(_text, "a file name", **_OPTIONAL)
    mistakes_sha256: str | None = _field(_text, _SHA256, **_OPTIONAL)
    # Flags uploads unlike the training data:
    domain_check: DomainCheck | None = _nested(DomainCheck, **_OPTIONAL)
    # Predictions (and the test figures above) averaged with the mirror image's, or not:
    mirror_average: MirrorAverage | None = _nested(MirrorAverage, **_OPTIONAL)
    # The network converted to LiteRT (`inference.litert`), beside the card: served without
    # TensorFlow, so the app starts in seconds.
    litert_file: str | None = _field(_text, "a file name", **_OPTIONAL)
    litert_sha256: str | None = _field(_text, _SHA256, **_OPTIONAL)
    # Mean |weight| per (source, reader) of each dense block (`inference.feature_reuse`),
    # measured from the weights once, so that the Model tab needs no Keras.
    feature_reuse: tuple[tuple[tuple[float | None, ...], ...], ...] | None = _field(
        _matrices, "a list of matrices of numbers (null where unread)", **_OPTIONAL
    )
    # Published models (Keras' ImageNet weights):
    title: str | None = _field(_text, "a title", **_OPTIONAL)
    about: str | None = _field(_text, "a sentence", **_OPTIONAL)
    weights_url: str | None = _field(_text, "a URL", **_OPTIONAL)
    weights_md5: str | None = _field(_text, "a hex MD5", **_OPTIONAL)

    def __post_init__(self) -> None:
        """`ValueError` unless the fields agree with each other (class count, confusion
        matrix size, files with their SHA-256, feature reuse and preprocessing with the
        config)."""
        classes = len(self.class_names)
        if classes != self.config.num_classes:
            raise ValueError(
                f"field 'class_names' has {classes} names for a config with "
                f"{self.config.num_classes} classes"
            )
        if self.confusion_matrix is not None and (
            len(self.confusion_matrix) != classes
            or any(len(row) != classes for row in self.confusion_matrix)
        ):
            raise ValueError(f"field 'confusion_matrix' must be {classes} x {classes}")
        for file in ("mistakes", "litert"):
            if (getattr(self, f"{file}_file") is None) != (getattr(self, f"{file}_sha256") is None):
                raise ValueError(f"fields '{file}_file' and '{file}_sha256' come together")
        if self.feature_reuse is not None:
            try:
                reuse_from_card(self.feature_reuse, self.config)
            except ValueError as error:
                raise ValueError(
                    f"field 'feature_reuse' does not fit the config: {error}"
                ) from None
        for name in ("mean", "std"):
            value = getattr(self.preprocessing, name)
            if isinstance(value, tuple) and len(value) != self.config.input_shape[-1]:
                raise ValueError(
                    f"field 'preprocessing' has a {name} of {len(value)} values for "
                    f"{self.config.input_shape[-1]} channels"
                )

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
        try:
            return cls(**_read_fields(cls, values))
        except ValueError as error:
            raise refuse(str(error)) from None

    @property
    def mirror_averaged(self) -> bool:
        """Whether predictions average the picture's probabilities with its mirror image's."""
        return self.mirror_average is not None and self.mirror_average.used

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        """`from_json` of a card file."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"), path)

    def write(self, path: Path) -> None:
        """Write the card to `path` atomically, after reading it back as any reader will: a
        card that would be refused is never written (`ValueError`)."""
        text = self.to_json()
        ModelCard.from_json(text, path)
        write_atomically(Path(path), text.encode())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values in field order; fields that are None are left out."""
        values = _plain(self)
        return {name: value for name, value in values.items() if value is not None}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1) + "\n"


def _plain(value: Any) -> Any:
    """Records as JSON objects (field order), tuples as lists."""
    if dataclasses.is_dataclass(value):
        return {
            field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
