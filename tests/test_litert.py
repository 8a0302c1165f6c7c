"""LiteRTForward: the converted model computes what the Keras model computes, whether converted
in this process or (for a serving app) in a child process."""

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # Keras models


@pytest.fixture(scope="module")
def small_densenet():
    import dataclasses

    from densenet_demo import PRESETS, build_model

    config = dataclasses.replace(
        PRESETS["densenet121"],
        input_shape=(32, 32, 3),
        block_layers=(1, 2),
        growth_rate=4,
        init_features=8,
        num_classes=5,
    )
    return build_model(config, name="small")


@pytest.mark.parametrize("isolated", [False, True])
def test_litert_matches_keras(small_densenet, isolated):
    from densenet_demo.inference.litert import LiteRTForward

    images = np.random.default_rng(0).normal(size=(3, 32, 32, 3)).astype(np.float32)
    forward = LiteRTForward(small_densenet, isolated=isolated)
    expected = small_densenet(images, training=False).numpy()
    assert np.abs(forward(images) - expected).max() <= 1e-6
