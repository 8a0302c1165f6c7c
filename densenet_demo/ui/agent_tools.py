"""Endpoints written for programs and AI agents: plain JSON in and out (`/summary`, declared in
`endpoints`). With the MCP server on, an agent reads the docstring below: it says what each
argument is and what comes back.
"""

from __future__ import annotations

import dataclasses

from ..architecture.config import DenseNetConfig
from ..architecture.controls import DEFAULT_PRESET, check_memory
from ..architecture.presets import PRESETS, preset_with
from ..architecture.report import summary_record
from ..architecture.share import to_query
from ..architecture.summary import DEFAULT_BATCH_SIZE, summarize
from ..architecture.training_memory import (
    DEFAULT_MEMORY_GIB,
    DEFAULT_OPTIMIZER,
    GPU_MEMORY_GIB,
    OPTIMIZER_NAMES,
)
from .components import ui_error


def summary(
    preset: str = DEFAULT_PRESET,
    overrides: dict | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    optimizer: str = DEFAULT_OPTIMIZER,
    memory_gib: float = DEFAULT_MEMORY_GIB,
) -> dict:
    """The analytic summary of a DenseNet (computed without building it, in milliseconds): a
    preset, with any of its configuration fields changed.

    Args:
        preset: a preset name: {presets}.
        overrides: the configuration fields to change, e.g. {{"growth_rate": 24}}; fields: {fields}.
        batch_size: images per training batch, for the training-memory figures.
        optimizer: whose state the training memory counts: {optimizers}.
        memory_gib: the memory (GiB) the largest batch must fit in, a number: {memories}.

    Returns:
        dict: "config" (every field), "depth", "total_params", "trainable_params",
        "non_trainable_params", "macs" and "flops" per image, "memory" (activation bytes),
        "training_memory" (bytes of weights, gradients, optimizer state and in total; the
        largest batch that fits), "figures" (each headline figure as label, text, amount and
        unit), "stages" (parameters, MACs and output channels per stage),
        "keras_build_refusal" (why this app would not build it, or null) and "link_query"
        (the share link's query string).
    """
    try:
        config = preset_with(preset, overrides)
        memory = check_memory(batch_size, optimizer, memory_gib)
    except ValueError as error:
        raise ui_error(error) from None
    record = summary_record(summarize(config), *memory)
    record["link_query"] = to_query(config, preset if PRESETS[preset] == config else None)
    return record


# The lists an agent reads, from their one source.
summary.__doc__ = summary.__doc__.format(
    presets=", ".join(PRESETS),
    memories="; ".join(GPU_MEMORY_GIB.values()),
    optimizers=", ".join(f"{key} ({name})" for key, name in OPTIMIZER_NAMES.items()),
    fields=", ".join(field.name for field in dataclasses.fields(DenseNetConfig)),
)
