"""The layer plan: the ordered list of layers a `DenseNetConfig` describes.

Both the Keras builder and the analytic summary walk this one plan, so layer names, order,
shapes and wiring are decided in exactly one place. Names follow Keras' DenseNet
(`conv2_block1_1_conv`, `pool2_conv`, ...) so published weights load by structure.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .config import DenseNetConfig
from .geometry import STEM_STEPS, TRANSITION_POOL, step_output_side

PAPER_BN_EPSILON = 1.001e-5  # Keras' DenseNet value; the published weights were trained with it.
KERAS_DEFAULT_BN_EPSILON = 1e-3  # what the article's plain BatchNormalization() uses.


def uses_conv_bias(config: DenseNetConfig) -> bool:
    """The article gives every conv a bias; the paper does not (BN follows each conv)."""
    return config.style == "article"


def bn_epsilon(config: DenseNetConfig) -> float:
    return KERAS_DEFAULT_BN_EPSILON if config.style == "article" else PAPER_BN_EPSILON


class LayerSpec(NamedTuple):
    """One Keras layer with its analytic costs for one image.

    `output_shape` is (height, width, channels), or (features,) after global pooling. Costs
    are computed here, as the plan is made, so the summary is one pass over the plan.
    """

    name: str
    kind: str
    inputs: tuple[str, ...]
    output_shape: tuple[int, ...]
    stage: str  # "stem", "block 2", "transition 1", "head"
    trunk: bool  # True where the output is the main feature map (what the next unit reads)
    params: int
    trainable_params: int
    macs: int  # multiply-accumulates: convolutions and the classifier
    filters: int  # conv filters or dense units
    kernel: int  # conv kernel, pool size or padding amount
    stride: int
    padding: str

    @property
    def activations(self) -> int:
        """Output elements for one image (the layer's activation size)."""
        return math.prod(self.output_shape)

    @property
    def concatenates(self) -> tuple[str, ...]:
        """The layers a Concatenate joins (block input first, as Keras orders them), else ()."""
        return self.inputs if self.kind == "concatenate" else ()


def transition_width(config: DenseNetConfig, channels: int) -> int:
    """Channels out of a transition: the fixed width if given, else floor(θ·m), at least 1."""
    if config.transition_features is not None:
        return config.transition_features
    return max(1, math.floor(channels * config.compression + 1e-9))  # 1e-9: 0.7 * 100 -> 70


class _Planner:
    """Threads the running shape through the plan, as torchvision threads `num_features`."""

    def __init__(self, config: DenseNetConfig) -> None:
        self.config = config
        self.paper = config.style == "paper"
        self.bias = uses_conv_bias(config)
        self.layers: list[LayerSpec] = []
        self.last = "input_layer"
        self.shape: tuple[int, ...] = config.input_shape
        self.stage = "stem"
        self.add("input_layer", "input", config.input_shape, inputs=())

    def add(
        self,
        name: str,
        kind: str,
        shape: tuple[int, ...],
        inputs: tuple[str, ...] | None = None,
        trunk: bool = False,
        params: int = 0,
        trainable: int = 0,
        macs: int = 0,
        filters: int = 0,
        kernel: int = 0,
        stride: int = 1,
        padding: str = "valid",
    ) -> str:
        # tuple.__new__ skips NamedTuple's keyword wrapper: this runs ~1,000 times a summary.
        self.layers.append(
            tuple.__new__(
                LayerSpec,
                (
                    name,
                    kind,
                    (self.last,) if inputs is None else inputs,
                    shape,
                    self.stage,
                    trunk,
                    params,
                    trainable,
                    macs,
                    filters,
                    kernel,
                    stride,
                    padding,
                ),
            )
        )
        self.last, self.shape = name, shape
        return name

    def conv(
        self, name: str, filters: int, kernel: int, stride: int = 1, padding: str = "same"
    ) -> str:
        height, width, channels = self.shape
        height, width = (
            step_output_side("conv", side, kernel, stride, padding) for side in (height, width)
        )
        weights = kernel * kernel * channels * filters
        params = weights + filters if self.bias else weights
        return self.add(
            name,
            "conv",
            (height, width, filters),
            params=params,
            trainable=params,
            macs=weights * height * width,
            filters=filters,
            kernel=kernel,
            stride=stride,
            padding=padding,
        )

    def bn_relu(self, prefix: str) -> str:
        """BatchNorm then ReLU, named `<prefix>_bn`/`<prefix>_relu` (Keras' head: `bn`/`relu`)."""
        join = prefix + "_" if prefix else ""
        channels = self.shape[-1]  # gamma, beta trainable; moving mean and variance not
        self.add(join + "bn", "batch_norm", self.shape, params=4 * channels, trainable=2 * channels)
        return self.add(join + "relu", "relu", self.shape)

    def dropout(self, name: str) -> None:
        if self.config.dropout_rate > 0:
            self.add(name, "dropout", self.shape)

    def pad(self, name: str, amount: int) -> str:
        height, width, channels = self.shape
        return self.add(
            name, "zero_padding", (height + 2 * amount, width + 2 * amount, channels), kernel=amount
        )

    def pool(self, name: str, kind: str, size: int, stride: int) -> str:
        height, width, channels = self.shape
        height, width = (
            step_output_side(kind, side, size, stride, "valid") for side in (height, width)
        )
        return self.add(name, kind, (height, width, channels), kernel=size, stride=stride)

    def stem(self) -> None:
        for step in STEM_STEPS[self.config.stem]:
            if step.kind == "conv":
                self.conv(
                    step.name, self.config.init_features, step.kernel, step.stride, step.padding
                )
            elif step.kind == "bn_relu":
                self.bn_relu(step.name)
            elif step.kind == "zero_padding":
                self.pad(step.name, step.kernel)
            else:
                self.pool(step.name, step.kind, step.kernel, step.stride)
        self.mark_trunk()

    def dense_layer(self, prefix: str) -> None:
        block_input, input_shape = self.last, self.shape
        self.bn_relu(prefix + "_0")
        if self.config.bottleneck:
            self.conv(prefix + "_1_conv", self.config.bn_size * self.config.growth_rate, 1)
            self.dropout(prefix + "_1_drop")
            if self.paper:  # the article feeds the 1x1 conv straight into the 3x3 conv
                self.bn_relu(prefix + "_1")
        self.conv(prefix + "_2_conv", self.config.growth_rate, 3)
        self.dropout(prefix + "_2_drop")
        new = self.last
        height, width, _ = input_shape
        self.add(
            prefix + "_concat",
            "concatenate",
            (height, width, input_shape[-1] + self.config.growth_rate),
            inputs=(block_input, new),
            trunk=True,
        )

    def transition(self, prefix: str) -> None:
        self.bn_relu(prefix)
        self.conv(prefix + "_conv", transition_width(self.config, self.shape[-1]), 1)
        self.dropout(prefix + "_drop")
        self.pool(prefix + "_pool", "avg_pool", TRANSITION_POOL, TRANSITION_POOL)
        self.mark_trunk()

    def head(self) -> None:
        self.stage = "head"
        if self.paper:
            self.bn_relu("")
        self.add("avg_pool", "global_avg_pool", (self.shape[-1],))
        classes = self.config.num_classes
        weights = self.shape[-1] * classes
        self.add(
            "predictions",
            "dense",
            (classes,),
            params=weights + classes,
            trainable=weights + classes,
            macs=weights,
            filters=classes,
        )

    def mark_trunk(self) -> None:
        self.layers[-1] = self.layers[-1]._replace(trunk=True)


def plan_layers(config: DenseNetConfig) -> tuple[LayerSpec, ...]:
    """The layers of `config`, in Keras' creation order (which fixes `get_weights()` order)."""
    planner = _Planner(config)
    planner.stem()
    for block, layers in enumerate(config.block_layers):
        stage = block + 2  # Keras numbers stages from conv2 (conv1 is the stem)
        planner.stage = f"block {block + 1}"
        for layer in range(layers):
            planner.dense_layer(f"conv{stage}_block{layer + 1}")
        if block < len(config.block_layers) - 1:
            planner.stage = f"transition {block + 1}"
            planner.transition(f"pool{stage}")
    planner.head()
    return tuple(planner.layers)
