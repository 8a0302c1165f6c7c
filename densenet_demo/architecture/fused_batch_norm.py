"""Keras' BatchNormalization with its training step as one TensorFlow op.

Keras 3 normalises a batch in training with a dozen separate ops (mean, squared difference,
mean, subtract, multiply...) and as many in the gradient. In a DenseNet, where every layer
normalises the concatenation of all earlier features, those ops took more than half of a
training step on CPU (a profile in benchmarks/train.py --profile); TensorFlow's
`FusedBatchNormV3` does the same in one op, and its gradient in one more, which oneDNN also
fuses with the ReLU that follows. Same weights, same inference path, same arithmetic up to
rounding: the moving variance is kept as Keras keeps it (the biased batch variance, where the
fused op returns the unbiased one).

Imported only where a model is built: it imports Keras and TensorFlow.
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="densenet_demo")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """A drop-in `keras.layers.BatchNormalization` for 4-D NHWC inputs on TensorFlow; any
    other use (masks, renorm, synchronised statistics, another axis) takes Keras' path."""

    def _fusable(self, inputs, training, mask) -> bool:
        return bool(
            training
            and self.trainable
            and mask is None
            and not self.renorm
            and not self.synchronized
            and self.center
            and self.scale
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and keras.backend.backend() == "tensorflow"
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        inputs = tf.cast(inputs, tf.float32)  # as Keras: statistics in float32 under bf16
        outputs, mean, unbiased = tf.compat.v1.nn.fused_batch_norm(
            inputs,
            tf.cast(self.gamma, tf.float32),
            tf.cast(self.beta, tf.float32),
            epsilon=self.epsilon,
            data_format="NHWC",
            is_training=True,
        )
        count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], tf.float32)
        variance = unbiased * (count - 1.0) / count
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum + variance * (1.0 - momentum))
        return tf.cast(outputs, self.compute_dtype)
