"""The `article` preset is the seed article's Keras model, quirks included."""

import numpy as np
import pytest

from densenet_demo import PRESETS, build_model, summarize

pytestmark = pytest.mark.slow  # Keras models


def article_model():
    """Verbatim from "DenseNet Architecture Explained with Code Examples" (shared/reference)."""
    # Imported here, not at the top: collecting this module would load TensorFlow even in the
    # fast loop, which deselects it (slow).
    from keras.layers import (
        AveragePooling2D,
        BatchNormalization,
        Concatenate,
        Conv2D,
        Dense,
        GlobalAveragePooling2D,
        Input,
        ReLU,
    )
    from keras.models import Model

    def dense_block(x, num_layers, growth_rate):
        for _ in range(num_layers):
            x_input = x
            x = BatchNormalization()(x)
            x = ReLU()(x)
            x = Conv2D(growth_rate, (1, 1), padding="same")(x)
            x = Conv2D(growth_rate, (3, 3), padding="same")(x)
            x = Concatenate(axis=-1)([x_input, x])
        return x

    input_shape = (224, 224, 3)
    num_classes = 10
    growth_rate = 32
    num_layers_per_block = 4
    input_layer = Input(shape=input_shape)
    x = Conv2D(64, (7, 7), strides=(2, 2), padding="same")(input_layer)
    x = BatchNormalization()(x)
    x = ReLU()(x)
    x = dense_block(x, num_layers_per_block, growth_rate)
    x = BatchNormalization()(x)
    x = ReLU()(x)
    x = Conv2D(128, (1, 1), padding="same")(x)
    x = AveragePooling2D((2, 2), strides=(2, 2))(x)
    x = dense_block(x, num_layers_per_block, growth_rate)
    x = GlobalAveragePooling2D()(x)
    x = Dense(num_classes, activation="softmax")(x)
    return Model(inputs=input_layer, outputs=x)


def test_article_preset_has_the_articles_parameter_counts():
    reference = article_model()
    summary = summarize(PRESETS["article"])
    assert reference.count_params() == summary.total_params == 153_482
    assert summary.non_trainable_params == 2_816


def test_article_preset_computes_what_the_article_code_computes():
    reference, ours = article_model(), build_model(PRESETS["article"])
    assert [w.shape for w in ours.weights] == [w.shape for w in reference.weights]
    ours.set_weights(reference.get_weights())
    images = np.random.default_rng(1).normal(size=(2, 224, 224, 3)).astype("float32")
    difference = np.abs(ours(images, training=False) - reference(images, training=False))
    assert float(np.max(difference)) <= 1e-5
