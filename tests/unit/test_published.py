"""The published DenseNets of the Explore map: the paper's CIFAR models recomputed from their
architecture match the paper's parameter counts, and Keras' and torchvision's published figures
match the summary of the same architecture."""

import pytest

from densenet_demo import PRESETS, DenseNetConfig, summarize
from densenet_demo.architecture.published import (
    families,
    nearest_family,
    paper_cifar_config,
    published_models,
)

MODELS = {model.name: model for model in published_models()}


def cifar(growth_rate, layers, bottleneck):
    """The paper's CIFAR network, written out: three blocks, a 3×3 stem conv of 16 channels (2k
    with -BC), compression 0.5 with -BC, 10 classes."""
    return DenseNetConfig(
        input_shape=(32, 32, 3),
        num_classes=10,
        growth_rate=growth_rate,
        block_layers=(layers,) * 3,
        bottleneck=bottleneck,
        compression=0.5 if bottleneck else 1.0,
        init_features=2 * growth_rate if bottleneck else 16,
        stem="cifar",
    )


# Huang et al. 2017, Table 2: name, its network and its parameter count (millions).
PAPER_TABLE_2 = [
    ("DenseNet (L = 40, k = 12)", cifar(12, 12, False), 1.0),
    ("DenseNet (L = 100, k = 12)", cifar(12, 32, False), 7.0),
    ("DenseNet (L = 100, k = 24)", cifar(24, 32, False), 27.2),
    ("DenseNet-BC (L = 100, k = 12)", cifar(12, 16, True), 0.8),
    ("DenseNet-BC (L = 250, k = 24)", cifar(24, 41, True), 15.3),
    ("DenseNet-BC (L = 190, k = 40)", cifar(40, 31, True), 25.6),
]


@pytest.mark.parametrize("name, config, millions", PAPER_TABLE_2)
def test_the_papers_cifar_models_have_the_papers_parameter_counts(name, config, millions):
    # The paper counts learned weights: BN moving statistics are not parameters there.
    assert round(summarize(config).trainable_params / 1e6, 1) == millions
    model = MODELS[name]
    assert model.config == config and model.published["params_millions"] == millions
    assert model.params == summarize(config).trainable_params


def test_the_paper_cifar_rule_gives_the_cifar_presets_and_refuses_impossible_depths():
    assert paper_cifar_config(100, 12, bc=True) == PRESETS["densenet-bc-100"]
    assert paper_cifar_config(40, 12, bc=False) == PRESETS["densenet-40"]
    for depth, bc in ((102, True), (101, False), (4, False)):
        with pytest.raises(ValueError, match=f"^depth={depth} is invalid"):
            paper_cifar_config(depth, 12, bc=bc)


@pytest.mark.parametrize("model", published_models(), ids=lambda model: model.name)
def test_published_parameters_and_macs_match_the_summary_of_the_same_architecture(model):
    summary = summarize(model.config)
    published = model.published
    if "total_params" in published:  # Keras counts BN moving statistics too
        assert published["total_params"] == summary.total_params
    if "trainable_params" in published:  # PyTorch's parameters are the learned ones
        assert published["trainable_params"] == summary.trainable_params
    if "gmacs" in published:
        assert published["gmacs"] == pytest.approx(summary.macs / 1e9, abs=0.0005)
    assert (model.params, model.macs) == (summary.trainable_params, summary.macs)
    assert model.reference and model.accuracy.endswith("%")


def test_every_family_has_models_and_configs_land_in_the_family_of_their_input_size():
    assert {model.family for model in published_models()} == {f.key for f in families()}
    assert nearest_family(PRESETS["densenet121"]).key == "imagenet"
    assert nearest_family(PRESETS["fashion"]).key == "cifar"  # 28×28
    assert nearest_family(PRESETS["densenet-bc-100"]).key == "cifar"


@pytest.mark.parametrize("name", ["densenet121", "fashion"])
def test_the_map_shows_every_published_model_and_the_configuration_in_its_panel(name):
    from densenet_demo.ui.explore_charts import published_map_figure

    summary = summarize(PRESETS[name])
    figure = published_map_figure(summary)
    stars = [trace for trace in figure.data if trace.marker.symbol == "star"]
    assert len(stars) == 1
    assert (stars[0].x, stars[0].y) == ((summary.trainable_params,), (summary.macs,))
    panel = [family.key for family in families()].index(nearest_family(summary.config).key)
    assert stars[0].xaxis == ("x" if panel == 0 else f"x{panel + 1}")
    points = {
        (x, y, text)
        for trace in figure.data
        if trace.text is not None
        for x, y, text in zip(trace.x, trace.y, trace.text)
    }
    assert points == {(model.params, model.macs, model.accuracy) for model in published_models()}
