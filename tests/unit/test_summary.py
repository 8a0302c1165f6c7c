"""The analytic summary equals Keras on random valid configs, and its memory model behaves."""

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from densenet_demo import PRESETS, DenseNetConfig, build_model, summarize
from densenet_demo.architecture.summary import BUILD_LIMITS, check_buildable


@st.composite
def small_configs(draw):
    """Valid configs small enough to build in Keras in about a second."""
    blocks = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    stem = draw(st.sampled_from(["imagenet", "cifar", "article"]))
    minimum = {"imagenet": 4, "article": 2, "cifar": 1}[stem] * 2 ** (len(blocks) - 1)
    height = draw(st.integers(minimum, minimum + 24))
    width = draw(st.integers(minimum, minimum + 24))
    style = draw(st.sampled_from(["paper", "article"]))
    return DenseNetConfig(
        input_shape=(height, width, draw(st.integers(1, 4))),
        num_classes=draw(st.integers(1, 20)),
        growth_rate=draw(st.integers(1, 16)),
        block_layers=tuple(blocks),
        bottleneck=draw(st.booleans()),
        bn_size=draw(st.integers(1, 4)),
        compression=draw(st.floats(0.05, 1.0, allow_nan=False)),
        init_features=draw(st.integers(1, 32)),
        stem=stem,
        dropout_rate=draw(st.sampled_from([0.0, 0.2])),
        classifier_activation=draw(st.sampled_from(["softmax", "sigmoid", "linear"])),
        style=style,
        transition_features=draw(st.one_of(st.none(), st.integers(1, 40))),
    )


@pytest.mark.slow
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_configs())
def test_analytic_counts_equal_keras_on_random_configs(config):
    model = build_model(config)
    summary = summarize(config)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert model.count_params() == summary.total_params
    assert trainable == summary.trainable_params
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == [
        row.output_shape for row in summary.layers
    ]


def test_macs_of_densenet121_match_the_usual_figure():
    # 2.83 GMACs is the figure torchvision and fvcore give for DenseNet-121 at 224 px.
    assert round(summarize(PRESETS["densenet121"]).macs / 1e9, 2) == 2.83


def test_channel_series_grows_by_k_per_dense_layer_and_drops_at_transitions():
    summary = summarize(PRESETS["densenet121"])
    trunk = [(row.stage, row.output_shape[-1]) for row in summary.layers if row.trunk]
    assert trunk[0] == ("stem", 64)
    assert trunk[6] == ("block 1", 64 + 6 * 32)
    assert trunk[7] == ("transition 1", 128)
    assert trunk[-1] == ("block 4", 512 + 16 * 32)


def test_shared_memory_grows_linearly_where_naive_grows_quadratically():
    def memory(layers):
        config = DenseNetConfig(
            input_shape=(32, 32, 3),
            growth_rate=12,
            block_layers=(layers,),
            stem="cifar",
            init_features=24,
        )
        estimate = summarize(config).activation_memory(1)
        return estimate.naive_bytes, estimate.shared_bytes

    (naive_small, shared_small), (naive_big, shared_big) = memory(20), memory(80)
    assert shared_big < naive_big and shared_small < naive_small
    assert naive_big / naive_small > 8  # ~quadratic: 4x the layers, >8x the memory
    assert shared_big / shared_small < 6  # ~linear


def test_memory_scales_with_batch_size_and_rejects_bad_batches():
    summary = summarize(PRESETS["densenet-bc-100"])
    one, many = summary.activation_memory(1), summary.activation_memory(64)
    assert many.naive_bytes == 64 * one.naive_bytes
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            summary.activation_memory(bad)


def test_every_preset_is_buildable_and_oversized_models_are_refused_with_the_reason():
    for config in PRESETS.values():
        check_buildable(config)
    huge = dataclasses.replace(PRESETS["densenet264"], growth_rate=128)
    with pytest.raises(
        ValueError,
        match=f"too large to build.*parameters exceeds the limit of {BUILD_LIMITS['parameters']:,}",
    ):
        build_model(huge)


def test_largest_valid_config_is_still_analysed():
    config = DenseNetConfig(
        input_shape=(2048, 2048, 16),
        growth_rate=256,
        block_layers=(128,) * 6,
        num_classes=100_000,
        init_features=1024,
    )
    summary = summarize(config)
    assert len(summary.layers) > 5000 and summary.build_refusal()


def test_layer_rows_carry_shape_costs_activation_size_and_concatenated_inputs():
    rows = {row.name: row for row in summarize(PRESETS["densenet121"]).layers}
    concat = rows["conv2_block1_concat"]
    assert concat.concatenates == ("pool1", "conv2_block1_2_conv")
    assert concat.output_shape == (56, 56, 96) and concat.activations == 56 * 56 * 96
    conv = rows["conv2_block1_1_conv"]  # 1x1 bottleneck: 64 -> 4k = 128 channels, no bias
    assert (conv.params, conv.macs) == (64 * 128, 64 * 128 * 56 * 56)
    assert rows["conv1_bn"].trainable_params == 128 and rows["conv1_bn"].params == 256
