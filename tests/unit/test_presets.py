"""Presets equal Keras' DenseNets and the paper's CIFAR models, layer for layer."""

import dataclasses

import numpy as np
import pytest

from densenet_demo import PRESETS, build_model, summarize

EXPECTED_PARAMS = {
    "densenet121": 8_062_504,
    "densenet169": 14_307_880,
    "densenet201": 20_242_984,
    "densenet264": 33_736_232,
    "densenet-bc-100": 793_150,
    "densenet-40": 1_037_818,
    "article": 153_482,
}
KERAS_APPLICATIONS = {
    "densenet121": "DenseNet121",
    "densenet169": "DenseNet169",
    "densenet201": "DenseNet201",
}  # keras.applications' builders


@pytest.mark.parametrize("name", EXPECTED_PARAMS)
def test_analytic_parameter_count_matches_the_published_figure(name):
    assert summarize(PRESETS[name]).total_params == EXPECTED_PARAMS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED_PARAMS)
def test_keras_build_matches_analytic_counts(name):
    model = build_model(PRESETS[name])
    summary = summarize(PRESETS[name])
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert (model.count_params(), trainable) == (summary.total_params, summary.trainable_params)
    assert [layer.name for layer in model.layers] == [row.name for row in summary.layers]
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == [
        row.output_shape for row in summary.layers
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", KERAS_APPLICATIONS)
def test_imagenet_presets_match_keras_applications(name):
    import keras

    reference = getattr(keras.applications, KERAS_APPLICATIONS[name])(weights=None)
    ours = build_model(PRESETS[name])
    assert ours.count_params() == reference.count_params() == EXPECTED_PARAMS[name]
    assert [w.shape for w in ours.weights] == [w.shape for w in reference.weights]
    weighted = [layer.name for layer in reference.layers if layer.weights]
    assert [layer.name for layer in ours.layers if layer.weights] == weighted


@pytest.mark.slow
def test_densenet121_accepts_keras_weights_and_gives_the_same_outputs():
    import keras

    reference = keras.applications.DenseNet121(weights=None)
    ours = build_model(PRESETS["densenet121"])
    ours.set_weights(reference.get_weights())
    images = np.random.default_rng(0).uniform(-2, 2, (2, 224, 224, 3)).astype("float32")
    difference = np.abs(ours(images, training=False) - reference(images, training=False))
    assert float(np.max(difference)) <= 1e-5


def test_paper_depths():
    depths = {name: summarize(PRESETS[name]).depth for name in PRESETS}
    assert depths["densenet121"] == 121 and depths["densenet169"] == 169
    assert depths["densenet201"] == 201 and depths["densenet-bc-100"] == 100
    assert depths["densenet-40"] == 40
    # Table 1's "264" counts one layer fewer than its own blocks give (1 + 2·130 + 3 + 1).
    assert depths["densenet264"] == 265


def test_article_preset_trainable_split():
    summary = summarize(PRESETS["article"])
    assert (summary.trainable_params, summary.non_trainable_params) == (150_666, 2_816)


def test_fashion_preset_fits_the_shipping_budget():
    assert summarize(PRESETS["fashion"]).total_params <= 800_000


def test_a_preset_with_overrides_changes_only_those_fields():
    from densenet_demo.architecture.presets import preset_with

    assert preset_with("fashion", {"growth_rate": 24}) == dataclasses.replace(
        PRESETS["fashion"], growth_rate=24
    )
    assert preset_with("fashion", '{"block_layers": [4, 4]}').block_layers == (4, 4)
    assert preset_with("densenet121", None) == PRESETS["densenet121"]


@pytest.mark.parametrize(
    "preset, overrides, message",
    [
        ("resnet50", None, "preset='resnet50' is unknown: allowed densenet121"),
        ("fashion", [24], "overrides=[24] is invalid: allowed an object of configuration fields"),
        ("fashion", "{growth", "overrides='{growth' is not JSON"),
        ("fashion", {"growth_rate": 0}, "growth_rate=0 is invalid"),
        ("fashion", {"depth": 121}, "unknown config field(s): depth"),
    ],
)
def test_a_bad_preset_or_override_is_named(preset, overrides, message):
    from densenet_demo.architecture.presets import preset_with

    with pytest.raises(ValueError) as error:
        preset_with(preset, overrides)
    assert message in str(error.value)
