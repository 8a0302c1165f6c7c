"""The one description of a DenseNet: a frozen, validated `DenseNetConfig`.

Every other module (layer plan, Keras builder, analytic summary, charts, CLI, UI) reads a config
and nothing else, so a number shown anywhere traces back to these fields.
"""

from __future__ import annotations

import dataclasses
import math
import reprlib
from typing import Any

from .geometry import STEM_STEPS, final_spatial_size

STEMS = tuple(STEM_STEPS)  # "imagenet", "cifar", "article"
STYLES = ("paper", "article")
CLASSIFIER_ACTIVATIONS = ("softmax", "sigmoid", "linear")

# Field bounds. They keep every valid config analysable in milliseconds (at most 6 x 128 dense
# layers, 2048 px a side) while still admitting every published DenseNet (densenet264: 64 layers).
INT_BOUNDS = {
    "num_classes": (1, 100_000),
    "growth_rate": (1, 256),
    "bn_size": (1, 8),
    "init_features": (1, 1024),
    "transition_features": (1, 4096),
}
SPATIAL_BOUNDS = (1, 2048)
CHANNEL_BOUNDS = (1, 16)
BLOCK_COUNT_BOUNDS = (1, 6)
BLOCK_LAYER_BOUNDS = (1, 128)


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel = 1  # nested containers show as [...]


def short_repr(value: Any) -> str:
    """repr(value), cut to a few hundred characters at most: an API caller can send a megabyte
    (or a deeply nested list) where a number belongs, and errors quote the value."""
    return _SHORT_REPR.repr(value)


def parse_int_list(field: str, text: str) -> tuple[int, ...]:
    """'6, 12, 24, 16' -> (6, 12, 24, 16): layer counts and input shapes as people type them
    (on the page, in a link, on the command line); `ValueError` names the field."""
    try:
        return tuple(int(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        raise ValueError(
            f"{field}={short_repr(text)} is invalid: allowed comma-separated "
            "integers, e.g. 6, 12, 24, 16"
        ) from None


def parse_number(text: str) -> float:
    """'24' -> 24.0, '1e-3' -> 0.001: a number as a link or a command line writes it.
    `ValueError` for text that is not a finite number, a million digits (which `float`
    reads as inf) included; the caller names the field and quotes the text cut short."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def invalid(field: str, value: Any, allowed: str) -> ValueError:
    """The one refusal of a bad value, naming the field: "field=value is invalid: allowed ..."."""
    return ValueError(f"{field}={short_repr(value)} is invalid: allowed {allowed}")


def _fail(field: str, value: Any, allowed: str) -> None:
    raise invalid(field, value, allowed)


def check_integer(field: str, value: Any, low: int, high: int | None = None) -> int:
    """`value` as an int if it is a whole number from `low` to `high` (no upper bound when
    None), else `ValueError` naming `field`. Ints, numpy integers and whole floats (JSON
    clients and sliders send 32.0) are taken; bools, text, NaN and fractions are refused."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    whole = (
        not isinstance(value, bool)
        and hasattr(value, "__index__")
        and low <= value.__index__()
        and (high is None or value.__index__() <= high)
    )
    if not whole:
        upper = f"of at least {low:,}" if high is None else f"from {low:,} to {high:,}"
        _fail(field, value, f"an integer {upper}")
    return value.__index__()


def _as_float(field: str, value: Any, allowed: str, accept) -> float:
    """Accept numbers (numpy scalars too); refuse bools, text, NaN and ints too big for a float."""
    if isinstance(value, (bool, str, bytes)) or not hasattr(value, "__float__"):
        _fail(field, value, allowed)
    try:
        as_float = float(value)
    except (TypeError, ValueError, OverflowError):
        as_float = math.nan
    if not math.isfinite(as_float) or not accept(as_float):
        _fail(field, value, allowed)
    return as_float


def _as_choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        _fail(field, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def _as_int_tuple(
    field: str, value: Any, length: tuple[int, int], bounds: tuple[int, int], what: str
) -> tuple[int, ...]:
    allowed = f"{length[0]} to {length[1]} {what}, each an integer from {bounds[0]} to {bounds[1]}"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        _fail(field, value, allowed)
    if not length[0] <= len(value) <= length[1]:
        _fail(field, value, allowed)
    try:
        return tuple(check_integer(field, v, *bounds) for v in value)
    except ValueError:
        _fail(field, value, allowed)


@dataclasses.dataclass(frozen=True)
class DenseNetConfig:
    """A DenseNet architecture (Huang et al. 2017), defaulting to DenseNet-121 as in Keras.

    Raises `ValueError` naming the field, the value and the allowed range for any invalid
    value; `dataclasses.replace(config, growth_rate=24)` validates the same way.
    """

    input_shape: tuple[int, int, int] = (224, 224, 3)
    num_classes: int = 1000
    growth_rate: int = 32
    block_layers: tuple[int, ...] = (6, 12, 24, 16)
    bottleneck: bool = True
    bn_size: int = 4
    compression: float = 0.5
    init_features: int = 64
    stem: str = "imagenet"
    dropout_rate: float = 0.0
    classifier_activation: str = "softmax"
    # "paper" is Keras' and torchvision's DenseNet; "article" reproduces the seed article's
    # simplifications (conv biases, no BN-ReLU inside the bottleneck, no final BN-ReLU).
    style: str = "paper"
    # A fixed transition width (the article's 128); None means floor(compression x channels).
    transition_features: int | None = None

    def __post_init__(self) -> None:
        clean = {
            "input_shape": self._clean_input_shape(self.input_shape),
            "block_layers": _as_int_tuple(
                "block_layers",
                self.block_layers,
                BLOCK_COUNT_BOUNDS,
                BLOCK_LAYER_BOUNDS,
                "dense blocks",
            ),
            "bottleneck": self._clean_bool("bottleneck", self.bottleneck),
            "compression": _as_float(
                "compression", self.compression, "a number with 0 < θ ≤ 1", lambda v: 0.0 < v <= 1.0
            ),
            "dropout_rate": _as_float(
                "dropout_rate",
                self.dropout_rate,
                "a number from 0 up to (not including) 1",
                lambda v: 0.0 <= v < 1.0,
            ),
            "stem": _as_choice("stem", self.stem, STEMS),
            "style": _as_choice("style", self.style, STYLES),
            "classifier_activation": _as_choice(
                "classifier_activation", self.classifier_activation, CLASSIFIER_ACTIVATIONS
            ),
        }
        for field, (low, high) in INT_BOUNDS.items():
            value = getattr(self, field)
            if field == "transition_features" and value is None:
                continue
            clean[field] = check_integer(field, value, low, high)
        for field, value in clean.items():
            object.__setattr__(self, field, value)
        self._check_spatial_size()

    def _check_spatial_size(self) -> None:
        """Each transition halves the feature map (2x2 average pool), so it must stay >= 1 px."""
        transitions = len(self.block_layers) - 1
        height, width, _ = self.input_shape
        if (
            min(
                final_spatial_size(self.stem, height, transitions),
                final_spatial_size(self.stem, width, transitions),
            )
            >= 1
        ):
            return
        minimum = next(
            size
            for size in range(1, SPATIAL_BOUNDS[1] + 1)
            if final_spatial_size(self.stem, size, transitions) >= 1
        )
        _fail(
            "input_shape",
            self.input_shape,
            f"height and width of at least {minimum} px for the {self.stem!r} stem and "
            f"{len(self.block_layers)} dense blocks",
        )

    @staticmethod
    def _clean_bool(field: str, value: Any) -> bool:
        if isinstance(value, bool) or (hasattr(value, "dtype") and value.dtype == bool):
            return bool(value)
        _fail(field, value, "True or False")

    @staticmethod
    def _clean_input_shape(value: Any) -> tuple[int, int, int]:
        allowed = (
            f"(height, width, channels) with height and width from {SPATIAL_BOUNDS[0]} to "
            f"{SPATIAL_BOUNDS[1]} and channels from {CHANNEL_BOUNDS[0]} to "
            f"{CHANNEL_BOUNDS[1]}"
        )
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 3:
            _fail("input_shape", value, allowed)
        try:
            height = check_integer("input_shape", value[0], *SPATIAL_BOUNDS)
            width = check_integer("input_shape", value[1], *SPATIAL_BOUNDS)
            channels = check_integer("input_shape", value[2], *CHANNEL_BOUNDS)
        except ValueError:
            _fail("input_shape", value, allowed)
        return (height, width, channels)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (tuples become lists)."""
        return {
            f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
            for f in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DenseNetConfig:
        """Build from `to_dict` output; unknown keys are refused by name."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(
                f"unknown config field(s): {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(names))}"
            )
        return cls(**values)
