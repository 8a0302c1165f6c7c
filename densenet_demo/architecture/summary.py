"""Analytic summary of a `DenseNetConfig`: parameters, MACs, shapes and memory, with no Keras.

Everything here is arithmetic over the layer plan, so it runs in about a millisecond even for
DenseNet-264 and can follow every slider move. Tests hold it equal to Keras' `count_params()`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .config import DenseNetConfig, check_integer
from .plan import LayerSpec, plan_layers

BYTES_PER_FLOAT = 4
DEFAULT_BATCH_SIZE = 32  # for the activation-memory estimate, in the UI and the CLI
# A Keras build above any of these is refused with the reason: it would take the server
# seconds to minutes and gigabytes. Every preset, densenet264 included, stays below them.
BUILD_LIMITS = {
    "parameters": 50_000_000,
    "activation memory for one image (MiB)": 1024,
    "Keras layers": 1_500,
}
MEMORY_REASON = (
    "As Keras keeps them: the tensors the backward pass reads (each convolution's and batch "
    "norm's input, each ReLU's output) and two gradients in flight; the rest, such as the batch "
    "norms' outputs, is freed (within 6% of the memory measured on a CPU without XLA, "
    "docs/performance.md). "
    "Naive: every layer's output, so a block of L layers stores O(L²) channels. Shared-memory: "
    "concatenations and their BN-ReLU in two shared buffers, recomputed in the backward pass "
    "(Pleiss et al. 2017), so memory grows linearly with depth."
)
# Per dense layer, the outputs the shared-memory implementation keeps in shared buffers.
_SHARED_SUFFIXES = ("_concat", "_0_bn", "_0_relu")
# What TensorFlow's gradients read, so what a training step keeps until the backward pass: the
# input of these layers (a convolution's for its kernel gradient, a batch norm's for its
# statistics) ...
_GRADIENT_READS_INPUT = frozenset({"conv", "batch_norm", "dense", "max_pool"})
# ... and the output of these (a ReLU's gradient reads its output; dropout keeps its mask).
_GRADIENT_READS_OUTPUT = frozenset({"relu", "max_pool", "dropout", "dense"})


class StageTotals(NamedTuple):
    stage: str
    params: int
    macs: int
    out_channels: int


class MemoryEstimate(NamedTuple):
    """Activation memory for one training batch of float32 tensors: as Keras keeps it
    (`saved_bytes`), naive and shared-memory."""

    batch_size: int
    naive_bytes: int
    shared_bytes: int
    saved_bytes: int
    reason: str = MEMORY_REASON


class Summary:
    """The analytic summary of one config; see `summarize`."""

    def __init__(self, config: DenseNetConfig, plan: tuple[LayerSpec, ...]) -> None:
        self.config = config
        self.layers = plan  # one row per Keras layer, costs included
        # Transposing in C (zip) keeps this pass cheap: it runs on every slider move.
        columns = dict(zip(LayerSpec._fields, zip(*plan)))
        self.total_params = sum(columns["params"])
        self.trainable_params = sum(columns["trainable_params"])
        self.non_trainable_params = self.total_params - self.trainable_params
        self.macs = sum(columns["macs"])
        # Paper convention: DenseNet-121 has 120 convolutions and 1 fully connected layer.
        self.depth = columns["kind"].count("conv") + columns["kind"].count("dense")
        sizes = list(map(math.prod, columns["output_shape"]))  # LayerSpec.activations, in C
        self._naive = sum(sizes)
        shared = [
            size
            for name, stage, size in zip(columns["name"], columns["stage"], sizes)
            if stage[0] == "b" and name.endswith(_SHARED_SUFFIXES)
        ]  # in dense blocks
        self._shared = self._naive - sum(shared) + 2 * max(shared)
        read = {"input_layer"}  # the batch itself stays for the whole step
        for name, kind, inputs in zip(columns["name"], columns["kind"], columns["inputs"]):
            if kind in _GRADIENT_READS_INPUT:
                read.update(inputs)
            if kind in _GRADIENT_READS_OUTPUT:
                read.add(name)
        size = dict(zip(columns["name"], sizes))
        # ... plus the gradients in flight: the one reaching a layer and the one it passes back,
        # at most two of the largest activation.
        self._saved = sum(size[name] for name in read) + 2 * max(sizes)

    @property
    def flops(self) -> int:
        """Floating-point operations: one multiply and one add per MAC."""
        return 2 * self.macs

    @property
    def param_bytes(self) -> int:
        return self.total_params * BYTES_PER_FLOAT

    @property
    def stages(self) -> tuple[StageTotals, ...]:
        """Params and MACs per stage (stem, block 1, transition 1, ..., head), in order."""
        totals: dict[str, list[int]] = {}
        for row in self.layers:
            entry = totals.setdefault(row.stage, [0, 0, 0])
            entry[0] += row.params
            entry[1] += row.macs
            entry[2] = row.output_shape[-1]
        return tuple(StageTotals(stage, *values) for stage, values in totals.items())

    def activation_memory(self, batch_size: int = 1) -> MemoryEstimate:
        """Training activation memory for `batch_size` images: naive, shared-memory and as
        Keras keeps it (see `MEMORY_REASON`)."""
        batch_size = check_integer("batch_size", batch_size, 1)
        scale = batch_size * BYTES_PER_FLOAT
        return MemoryEstimate(
            batch_size, self._naive * scale, self._shared * scale, self._saved * scale
        )

    def build_refusal(self) -> str | None:
        """Why a Keras build of this config would be refused, or None if it is allowed."""
        measured = {
            "parameters": self.total_params,
            "activation memory for one image (MiB)": self._naive * BYTES_PER_FLOAT / 2**20,
            "Keras layers": len(self.layers),
        }
        for what, value in measured.items():
            if value > BUILD_LIMITS[what]:
                return (
                    f"model too large to build here: {value:,.0f} {what} exceeds the limit of "
                    f"{BUILD_LIMITS[what]:,}"
                )
        return None


def summarize(config: DenseNetConfig) -> Summary:
    """Parameters, MACs, per-layer shapes and memory of `config`, computed without Keras."""
    return Summary(config, plan_layers(config))


def check_buildable(config: DenseNetConfig) -> None:
    """Raise `ValueError` with the reason if `config` is above `BUILD_LIMITS`."""
    refusal = summarize(config).build_refusal()
    if refusal:
        raise ValueError(refusal)
