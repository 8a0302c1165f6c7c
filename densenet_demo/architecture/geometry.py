"""The stems as data, and the side-length arithmetic every layer shares.

The config checks that an input survives the stem and the transitions; the layer plan lays
the same layers out one by one. Both read the steps and the formulas here, so a stem is
described once.
"""

from __future__ import annotations

from typing import NamedTuple


class Step(NamedTuple):
    """One stem layer: its Keras name, kind, kernel (or padding amount), stride, padding."""

    name: str
    kind: str  # "conv", "bn_relu", "zero_padding" or "max_pool"
    kernel: int = 0
    stride: int = 1
    padding: str = "same"


STEM_STEPS = {
    # Keras' ImageNet stem, ZeroPadding included, so weights and shapes match.
    "imagenet": (
        Step("conv1_pad", "zero_padding", 3),
        Step("conv1_conv", "conv", 7, 2, "valid"),
        Step("conv1", "bn_relu"),
        Step("pool1_pad", "zero_padding", 1),
        Step("pool1", "max_pool", 3, 2, "valid"),
    ),
    "cifar": (Step("conv1_conv", "conv", 3),),
    # The seed article's stem: a 7x7/2 'same' conv, no pooling.
    "article": (Step("conv1_conv", "conv", 7, 2), Step("conv1", "bn_relu")),
}
TRANSITION_POOL = 2  # a 2x2/2 'valid' average pool halves the side (floor)


def step_output_side(kind: str, side: int, kernel: int, stride: int, padding: str) -> int:
    """Side length after one layer of `kind`."""
    if kind == "zero_padding":
        return side + 2 * kernel
    if kind in ("conv", "max_pool", "avg_pool"):
        if padding == "same":
            return -(-side // stride)
        return (side - kernel) // stride + 1
    return side  # BN, ReLU, concatenation, dropout keep the side


def stem_output_side(stem: str, side: int) -> int:
    """Side length after the stem."""
    for step in STEM_STEPS[stem]:
        side = step_output_side(step.kind, side, step.kernel, step.stride, step.padding)
    return side


def final_spatial_size(stem: str, side: int, transitions: int) -> int:
    """Side length in the last dense block, after the stem and `transitions` transitions."""
    side = stem_output_side(stem, side)
    for _ in range(transitions):
        side = step_output_side("avg_pool", side, TRANSITION_POOL, TRANSITION_POOL, "valid")
    return side
