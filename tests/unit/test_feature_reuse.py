"""Feature reuse (the paper's Figure 5) on small dense blocks whose weights are set by hand."""

import dataclasses

import numpy as np
import pytest

from densenet_demo import DenseNetConfig, build_model
from densenet_demo.inference.feature_reuse import feature_reuse
from densenet_demo.ui.model_charts import feature_reuse_figure

pytestmark = pytest.mark.slow  # Keras models

NAN = np.nan
TINY = DenseNetConfig(
    input_shape=(8, 8, 1), num_classes=2, growth_rate=2, init_features=4, stem="cifar"
)


def set_kernel(model, name, per_channel):
    """Give every weight on input channel c the magnitude per_channel[c], signs alternating
    (so only a mean of absolute values recovers it)."""
    layer = model.get_layer(name)
    kernel, *rest = layer.get_weights()
    assert kernel.shape[-2] == len(per_channel)
    signs = (-1.0) ** np.arange(kernel.size).reshape(kernel.shape)
    magnitudes = np.asarray(per_channel, np.float32).reshape(len(per_channel), 1)
    layer.set_weights([(signs * magnitudes).astype(np.float32), *rest])


def three_layer_block_set_by_hand():
    """One block of 3 layers without bottleneck: each layer's 3x3 conv, then the classifier,
    read 4 block-input channels followed by 2 new channels per earlier layer."""
    config = dataclasses.replace(TINY, block_layers=(3,), bottleneck=False)
    model = build_model(config)
    set_kernel(model, "conv2_block1_2_conv", [2, -2, 2, 2])
    set_kernel(model, "conv2_block2_2_conv", [1, 1, 1, 1, 3, -3])
    set_kernel(model, "conv2_block3_2_conv", [4, 4, 4, 4, 1, 3, -1, 1])
    set_kernel(model, "predictions", [0.5, 0.5, 0.5, 0.5, 1, 1, 2, 2, 4, -4])
    return model, config


def test_without_bottleneck_each_layers_3x3_conv_and_the_classifier_are_read():
    model, config = three_layer_block_set_by_hand()

    [grid] = feature_reuse(model, config)

    assert grid.sources == ("block input", "layer 1", "layer 2", "layer 3")
    assert grid.readers == ("layer 1", "layer 2", "layer 3", "classifier")
    np.testing.assert_allclose(
        grid.mean_abs, [[2, 1, 4, 0.5], [NAN, 3, 2, 1], [NAN, NAN, 1, 2], [NAN, NAN, NAN, 4]]
    )
    np.testing.assert_allclose(
        grid.normalised,
        [[1, 1 / 3, 1, 0.125], [NAN, 1, 0.5, 0.25], [NAN, NAN, 0.25, 0.5], [NAN, NAN, NAN, 1]],
    )


@pytest.mark.parametrize("style", ["paper", "article"])
def test_with_bottleneck_the_1x1_conv_and_the_transition_are_read(style):
    config = dataclasses.replace(TINY, block_layers=(2, 2), bn_size=2, style=style)
    model = build_model(config)
    set_kernel(model, "conv2_block1_1_conv", [1, 1, 1, 1])
    set_kernel(model, "conv2_block2_1_conv", [2, 2, 2, 2, 4, 4])
    set_kernel(model, "pool2_conv", [1, 1, 1, 1, 3, 3, 6, 6])

    first, second = feature_reuse(model, config)

    assert first.readers == ("layer 1", "layer 2", "transition 1")
    np.testing.assert_allclose(first.mean_abs, [[1, 2, 1], [NAN, 4, 3], [NAN, NAN, 6]])
    np.testing.assert_allclose(first.normalised, [[1, 0.5, 1 / 6], [NAN, 1, 0.5], [NAN, NAN, 1]])
    assert second.block == 2 and second.readers[-1] == "classifier"
    assert second.mean_abs.shape == (3, 3)


def test_the_heat_map_draws_the_normalised_grid_with_gaps_where_layers_are_not_connected():
    model, config = three_layer_block_set_by_hand()

    [heat_map] = feature_reuse_figure(feature_reuse(model, config)).data

    assert [list(row) for row in heat_map.z] == [
        [1, pytest.approx(1 / 3), 1, 0.125],
        [None, 1, 0.5, 0.25],
        [None, None, 0.25, 0.5],
        [None, None, None, 1],
    ]
    assert list(heat_map.x) == ["layer 1", "layer 2", "layer 3", "classifier"]
    assert list(heat_map.y) == ["block input", "layer 1", "layer 2", "layer 3"]


def test_a_model_not_built_from_the_config_is_refused_by_layer_name():
    model = build_model(dataclasses.replace(TINY, block_layers=(2,), growth_rate=2))
    with pytest.raises(
        ValueError, match="layer conv2_block2_1_conv reads 6 channels but the config plans 7"
    ):
        feature_reuse(model, dataclasses.replace(TINY, block_layers=(2,), growth_rate=3))


def test_the_shipped_cards_grids_are_those_of_its_weights():
    from densenet_demo.inference.classifier import load_classifier
    from densenet_demo.inference.feature_reuse import reuse_from_card

    classifier = load_classifier("fashion")
    stored = reuse_from_card(classifier.card.feature_reuse, classifier.card.config)
    measured = feature_reuse(classifier.model, classifier.card.config)
    for card_grid, weights_grid in zip(stored, measured, strict=True):
        assert card_grid[:3] == weights_grid[:3]  # block, sources, readers
        np.testing.assert_allclose(card_grid.mean_abs, weights_grid.mean_abs, atol=1e-6)


def test_grids_of_another_shape_than_the_config_plans_are_refused():
    from densenet_demo.inference.feature_reuse import reuse_from_card

    with pytest.raises(ValueError, match=r"the feature-reuse grids are \[\(1, 1\)\]"):
        reuse_from_card([[[0.5]]], dataclasses.replace(TINY, block_layers=(3,)))
