"""Build a real Keras 3 model from a `DenseNetConfig` by walking its layer plan.

Keras is imported only once the config has passed the build limits: a refusal costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import DenseNetConfig
from .plan import LayerSpec, bn_epsilon, plan_layers, uses_conv_bias
from .summary import check_buildable

if TYPE_CHECKING:
    import keras


def _keras_layer(spec: LayerSpec, config: DenseNetConfig, fused: bool) -> keras.layers.Layer:
    import keras

    kind, name = spec.kind, spec.name
    if kind == "conv":
        return keras.layers.Conv2D(
            spec.filters,
            spec.kernel,
            strides=spec.stride,
            padding=spec.padding,
            use_bias=uses_conv_bias(config),
            name=name,
        )
    if kind == "batch_norm":
        if fused:
            from .fused_batch_norm import FusedBatchNormalization

            return FusedBatchNormalization(axis=-1, epsilon=bn_epsilon(config), name=name)
        return keras.layers.BatchNormalization(axis=-1, epsilon=bn_epsilon(config), name=name)
    if kind == "relu":
        return keras.layers.Activation("relu", name=name)
    if kind == "zero_padding":
        return keras.layers.ZeroPadding2D(padding=spec.kernel, name=name)
    if kind == "max_pool":
        return keras.layers.MaxPooling2D(spec.kernel, strides=spec.stride, name=name)
    if kind == "avg_pool":
        return keras.layers.AveragePooling2D(spec.kernel, strides=spec.stride, name=name)
    if kind == "concatenate":
        return keras.layers.Concatenate(axis=-1, name=name)
    if kind == "dropout":
        return keras.layers.Dropout(config.dropout_rate, name=name)
    if kind == "global_avg_pool":
        return keras.layers.GlobalAveragePooling2D(name=name)
    if kind == "dense":
        return keras.layers.Dense(spec.filters, activation=config.classifier_activation, name=name)
    raise AssertionError(f"unplanned layer kind {kind!r}")


def build_model(
    config: DenseNetConfig, name: str = "densenet", fused_batch_norm: bool = False
) -> keras.Model:
    """A Keras functional model for `config`, with Keras' DenseNet layer names and order.

    `fused_batch_norm` trains each BatchNormalization as one op (`fused_batch_norm.py`):
    1.8x the training speed on CPU, the same weights and inference. Only for training: a
    `.weights.h5` file names its layers by class, so files are written and read with Keras'
    own BatchNormalization.

    Raises `ValueError` (before any TensorFlow work) when the model exceeds the build limits
    in `summary.BUILD_LIMITS`.
    """
    check_buildable(config)
    import keras

    plan = plan_layers(config)
    tensors = {"input_layer": keras.Input(shape=config.input_shape, name="input_layer")}
    for spec in plan[1:]:
        inputs = [tensors[source] for source in spec.inputs]
        tensors[spec.name] = _keras_layer(spec, config, fused_batch_norm)(
            inputs if len(inputs) > 1 else inputs[0]
        )
    return keras.Model(tensors["input_layer"], tensors[plan[-1].name], name=name)
