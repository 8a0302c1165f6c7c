"""The Explore controls, declared once: name, label, kind, bounds, default and help of each.

The page lays its inputs out from this list, the API takes its values in this order and under
these names, and config <-> values conversions, share links, tests and benchmarks all read it.
Adding a hyperparameter = one `Control` here plus its field in `DenseNetConfig`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

from .config import (
    CLASSIFIER_ACTIVATIONS,
    STEMS,
    STYLES,
    DenseNetConfig,
    check_integer,
    parse_int_list,
)
from .presets import PRESETS
from .summary import DEFAULT_BATCH_SIZE
from .training_memory import (
    DEFAULT_MEMORY_GIB,
    DEFAULT_OPTIMIZER,
    GPU_MEMORY_GIB,
    OPTIMIZER_NAMES,
    check_memory_gib,
    check_optimizer,
)

DEFAULT_PRESET = "densenet121"  # what the page opens with: every control's default
MAX_BATCH_SIZE = 4096
CUSTOM = "custom"  # the preset name shown once the controls no longer match a preset


@dataclasses.dataclass(frozen=True)
class Control:
    """One input of the Explore tab; its default is its value in `DEFAULT_PRESET`, or
    `default` for an input that is not part of the config.

    `field` is the `DenseNetConfig` field it feeds (height, width and channels each feed one
    `position` of `input_shape`); None for inputs that are not part of the config.
    """

    name: str
    label: str
    kind: str  # "dropdown", "number", "slider", "text", "checkbox" or "radio"
    field: str | None
    position: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()  # values, or (label, value) pairs
    info: str | None = None
    row: str | None = None  # controls sharing a row name sit side by side
    default: Any = None
    custom_value: bool = False  # a dropdown that also takes a typed value


CONTROLS = (
    Control("preset", "Preset", "dropdown", None, choices=tuple(PRESETS)),
    Control("height", "Input height", "number", "input_shape", 0, row="input"),
    Control("width", "Input width", "number", "input_shape", 1, row="input"),
    Control("channels", "Input channels", "number", "input_shape", 2, row="input"),
    Control("num_classes", "Classes", "number", "num_classes"),
    Control(
        "growth_rate",
        "Growth rate k",
        "slider",
        "growth_rate",
        minimum=1,
        maximum=64,
        step=1,
        info="channels each dense layer adds",
    ),
    Control(
        "block_layers",
        "Layers per dense block",
        "text",
        "block_layers",
        info="1 to 6 blocks, comma-separated",
    ),
    Control("bottleneck", "Bottleneck (1×1 conv before the 3×3: -B)", "checkbox", "bottleneck"),
    Control("bn_size", "Bottleneck width (× k)", "slider", "bn_size", minimum=1, maximum=8, step=1),
    Control(
        "compression",
        "Compression θ (transitions keep θ·m channels: -C)",
        "slider",
        "compression",
        minimum=0.05,
        maximum=1.0,
        step=0.05,
    ),
    Control("init_features", "Stem output channels", "number", "init_features"),
    Control(
        "stem",
        "Stem",
        "radio",
        "stem",
        choices=STEMS,
        info="imagenet: 7×7/2 conv + 3×3/2 max-pool; cifar: 3×3 conv; article: 7×7/2 conv, no pool",
    ),
    Control(
        "style",
        "Layer style",
        "radio",
        "style",
        choices=STYLES,
        info="article: the seed article's simplified layers",
    ),
    Control(
        "transition_features", "Fixed transition width (0 = use θ)", "number", "transition_features"
    ),
    Control(
        "dropout_rate",
        "Dropout after each conv",
        "slider",
        "dropout_rate",
        minimum=0.0,
        maximum=0.9,
        step=0.05,
    ),
    Control(
        "classifier_activation",
        "Classifier activation",
        "dropdown",
        "classifier_activation",
        choices=CLASSIFIER_ACTIVATIONS,
    ),
)
# Not part of the architecture: the batch the memory estimate is for, the optimizer whose state
# it counts and the memory the largest batch must fit in (a GPU from the menu, or a number).
BATCH_SIZE = Control(
    "batch_size", "Batch size (for the memory estimate)", "number", None, default=DEFAULT_BATCH_SIZE
)
OPTIMIZER = Control(
    "optimizer",
    "Optimizer (its state is counted)",
    "radio",
    None,
    choices=tuple((name, key) for key, name in OPTIMIZER_NAMES.items()),
    default=DEFAULT_OPTIMIZER,
)
MEMORY_SIZE = Control(
    "memory_gib",
    "Memory size (GiB): largest batch that fits",
    "dropdown",
    None,
    choices=tuple((label, gib) for gib, label in GPU_MEMORY_GIB.items()),
    info="a GPU, or type a number",
    default=DEFAULT_MEMORY_GIB,
    custom_value=True,
)
# The memory estimate's inputs, after the config's in the layout and the API.
MEMORY_CONTROLS = (BATCH_SIZE, OPTIMIZER, MEMORY_SIZE)
CONTROL_NAMES = tuple(control.name for control in CONTROLS)


def config_from_controls(values: Mapping[str, Any]) -> DenseNetConfig:
    """A validated config from the Explore control values, by name; `ValueError` names the
    bad field. The preset only seeds the controls: the values are the truth. A transition
    width of 0 (or empty) means 'use the compression θ'."""
    fields: dict[str, Any] = {}
    shape: dict[int, Any] = {}
    for control in CONTROLS:
        value = values[control.name]
        if control.field == "input_shape":
            shape[control.position] = value
        elif control.field is not None:
            fields[control.field] = value
    fields["input_shape"] = tuple(shape[position] for position in sorted(shape))
    if isinstance(fields["block_layers"], str):  # lists pass through for the config to judge
        fields["block_layers"] = parse_int_list("block_layers", fields["block_layers"])
    if fields["transition_features"] in (None, "", 0, 0.0):
        fields["transition_features"] = None
    return DenseNetConfig(**fields)


def controls_from_config(config: DenseNetConfig, preset: str) -> dict[str, Any]:
    """The control values that show `config` (the inverse of `config_from_controls`), in
    `CONTROLS` order."""
    values = {}
    for control in CONTROLS:
        if control.field is None:
            values[control.name] = preset
            continue
        value = getattr(config, control.field)
        if control.position is not None:
            value = value[control.position]
        elif control.field == "block_layers":
            value = ", ".join(map(str, value))
        elif control.field == "transition_features":
            value = value or 0
        values[control.name] = value
    return values


def preset_controls(name: str) -> dict[str, Any]:
    """The control values of preset `name`."""
    return controls_from_config(PRESETS[name], name)


class MemorySettings(NamedTuple):
    """What the memory estimate is for (`report.headline`'s arguments after the summary)."""

    batch_size: int
    optimizer: str
    memory_gib: float


def check_memory(
    batch_size: Any,
    optimizer: Any = OPTIMIZER.default,
    memory_gib: Any = MEMORY_SIZE.default,
) -> MemorySettings:
    """The memory estimate's inputs, each checked: `ValueError` names a bad one."""
    return MemorySettings(
        check_integer(BATCH_SIZE.name, batch_size, 1, MAX_BATCH_SIZE),
        check_optimizer(optimizer),
        check_memory_gib(memory_gib),
    )


def check_memory_inputs(values: Mapping[str, Any]) -> MemorySettings:
    """`check_memory` of the control values by name; an optimizer or memory size not given
    takes its default."""
    return check_memory(
        values[BATCH_SIZE.name],
        values.get(OPTIMIZER.name, OPTIMIZER.default),
        values.get(MEMORY_SIZE.name, MEMORY_SIZE.default),
    )
