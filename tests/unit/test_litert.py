"""LiteRTForward: the converted model computes what the Keras model computes (features and
probabilities in one pass), whether converted in this process or (for a serving app) in a
child process, and refuses a file that is not such a model."""

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # Keras models

SHAPE, CLASSES = (32, 32, 3), 5


@pytest.fixture(scope="module")
def small_densenet():
    import dataclasses

    from densenet_demo import PRESETS, build_model

    config = dataclasses.replace(
        PRESETS["densenet121"],
        input_shape=SHAPE,
        block_layers=(1, 2),
        growth_rate=4,
        init_features=8,
        num_classes=CLASSES,
    )
    return build_model(config, name="small")


@pytest.mark.parametrize("isolated", [False, True])
def test_litert_matches_keras(small_densenet, isolated):
    import keras

    from densenet_demo.inference.litert import LiteRTForward, convert, convert_in_child

    images = np.random.default_rng(0).normal(size=(3, *SHAPE)).astype(np.float32)
    flatbuffer = (convert_in_child if isolated else convert)(small_densenet)
    features, probabilities = LiteRTForward(flatbuffer, SHAPE, CLASSES)(images)
    head = small_densenet.layers[-1]
    expected_features = keras.Model(small_densenet.inputs, head.input)(images).numpy()
    assert np.abs(features - expected_features).max() <= 1e-5
    assert np.abs(probabilities - small_densenet(images, training=False).numpy()).max() <= 1e-6


def test_a_batch_above_the_chunk_size_gives_the_same_rows(small_densenet):
    from densenet_demo.inference.litert import CHUNK, LiteRTForward, convert

    forward = LiteRTForward(convert(small_densenet), SHAPE, CLASSES)
    images = np.random.default_rng(1).normal(size=(CHUNK + 3, *SHAPE)).astype(np.float32)
    features, probabilities = forward(images)
    assert probabilities.shape == (CHUNK + 3, CLASSES)
    tail_features, tail_probabilities = forward(images[-3:])
    assert np.abs(probabilities[-3:] - tail_probabilities).max() <= 1e-6
    assert np.abs(features[-3:] - tail_features).max() <= 1e-5


def test_a_model_of_another_shape_is_refused(small_densenet):
    from densenet_demo.inference.litert import LiteRTForward, convert

    with pytest.raises(
        ValueError,
        match=r"takes \(32, 32, 3\) inputs and gives 5 classes, but its model card says "
        r"\(28, 28, 1\) and 10",
    ):
        LiteRTForward(convert(small_densenet), (28, 28, 1), 10, "x.tflite")


def test_bytes_that_are_not_a_converted_model_are_refused():
    from densenet_demo.inference.litert import LiteRTForward

    with pytest.raises(ValueError, match="x.tflite is not a converted DenseNet classifier"):
        LiteRTForward(b"not a flatbuffer" * 10, SHAPE, CLASSES, "x.tflite")
