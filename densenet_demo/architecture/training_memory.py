"""The memory one training step holds: weights, gradients, optimizer state and activations, and
the largest batch that fits in a given memory size.

Arithmetic over a `Summary`, like the rest of the core, so it follows every control change.
"""

from __future__ import annotations

import contextlib
from types import MappingProxyType
from typing import NamedTuple

from .config import short_repr
from .summary import BYTES_PER_FLOAT, MemoryEstimate, Summary

# float32 values an optimizer keeps per trainable weight (Keras: SGD's momentum; Adam's first
# and second moments).
OPTIMIZER_SLOTS = MappingProxyType({"sgd-momentum": 1, "adam": 2})
OPTIMIZER_NAMES = MappingProxyType({"sgd-momentum": "SGD with momentum", "adam": "Adam"})
OPTIMIZER_STATE_NAMES = MappingProxyType({"sgd-momentum": "momentum", "adam": "Adam's moments"})
OPTIMIZERS = tuple(OPTIMIZER_SLOTS)
DEFAULT_OPTIMIZER = "sgd-momentum"  # the paper's optimizer, and the trainer's
# Common GPU memory sizes, for the largest-batch figure.
GPU_MEMORY_GIB = MappingProxyType(
    {
        16: "16 GiB (V100, T4)",
        24: "24 GiB (RTX 3090/4090, A10)",
        40: "40 GiB (A100 40 GB)",
        80: "80 GiB (A100/H100 80 GB)",
    }
)
DEFAULT_MEMORY_GIB = 16
MEMORY_GIB_BOUNDS = (0.5, 1024)
GIB = 2**30
# Which activation count a total or a largest batch uses: as Keras keeps them (checked against
# measurement, docs/performance.md), every layer's output, or the shared-memory implementation's.
ACTIVATION_COUNTS = ("saved", "naive", "shared")
MEMORY_ACCOUNT = (
    "Counted: float32 weights (BN statistics included), one gradient per trainable weight, the "
    "optimizer's state and the activations; not counted: the framework itself (CUDA context and "
    "cuDNN workspace: 0.4–0.65 GB in the DenseNet authors' Torch figures, docs/performance.md; "
    "TensorFlow's runtime), the input pipeline and allocator fragmentation."
)


def check_optimizer(value: object) -> str:
    """`value` if it names an optimizer of `OPTIMIZERS`; `ValueError` naming it otherwise."""
    if not isinstance(value, str) or value not in OPTIMIZER_SLOTS:
        allowed = ", ".join(repr(name) for name in OPTIMIZERS)
        raise ValueError(f"optimizer={short_repr(value)} is invalid: allowed one of {allowed}")
    return value


def check_memory_gib(value: object) -> float:
    """A memory size in GiB from a number or its text (the page's menu also takes a typed
    one); `ValueError` naming it unless within `MEMORY_GIB_BOUNDS`."""
    low, high = MEMORY_GIB_BOUNDS
    number = None
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        with contextlib.suppress(ValueError, OverflowError):
            number = float(value)
    # The comparison also refuses NaN.
    if number is None or not low <= number <= high:
        raise ValueError(
            f"memory_gib={short_repr(value)} is invalid: allowed a number of GiB from {low} "
            f"to {high:,}"
        )
    return number


class TrainingMemory(NamedTuple):
    """Bytes one training step of `batch_size` images holds, part by part."""

    batch_size: int
    optimizer: str
    weights_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    activations: MemoryEstimate

    @property
    def fixed_bytes(self) -> int:
        """What does not grow with the batch: weights, gradients and optimizer state."""
        return self.weights_bytes + self.gradient_bytes + self.optimizer_bytes

    def activation_bytes(self, count: str = "saved") -> int:
        """The activations by one of `ACTIVATION_COUNTS`."""
        if count not in ACTIVATION_COUNTS:
            raise ValueError(f"count={count!r} is invalid: allowed one of {ACTIVATION_COUNTS}")
        return getattr(self.activations, count + "_bytes")

    def total_bytes(self, count: str = "saved") -> int:
        return self.fixed_bytes + self.activation_bytes(count)


def training_memory(summary: Summary, batch_size: int, optimizer: str) -> TrainingMemory:
    """The memory of one training step of `summary`'s network; `ValueError` names a bad
    `batch_size` or `optimizer`."""
    slots = OPTIMIZER_SLOTS[check_optimizer(optimizer)]
    trainable = summary.trainable_params * BYTES_PER_FLOAT
    return TrainingMemory(
        batch_size,
        optimizer,
        summary.param_bytes,
        trainable,
        slots * trainable,
        summary.activation_memory(batch_size),
    )


def largest_batch(summary: Summary, optimizer: str, memory_bytes: float, count="saved") -> int:
    """The largest batch whose total (by `count`) fits in `memory_bytes`; 0 when not even one
    image fits (see `TrainingMemory.fixed_bytes` for whether the weights alone do)."""
    one = training_memory(summary, 1, optimizer)
    free = memory_bytes - one.fixed_bytes
    return max(0, int(free // one.activation_bytes(count)))
