"""DenseNetConfig validation: one clear ValueError naming field, value and range."""

import dataclasses
import math
import re

import numpy as np
import pytest

from densenet_demo import PRESETS, DenseNetConfig
from densenet_demo.architecture.config import check_integer


def test_defaults_are_densenet121():
    assert DenseNetConfig() == PRESETS["densenet121"]


def test_replace_gives_a_validated_config():
    config = dataclasses.replace(PRESETS["densenet121"], growth_rate=24)
    assert config.growth_rate == 24
    with pytest.raises(
        ValueError, match=r"growth_rate=0 is invalid: allowed an integer from 1 to 256"
    ):
        dataclasses.replace(config, growth_rate=0)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("growth_rate", -3, "growth_rate=-3 is invalid"),
        ("growth_rate", 2.5, "growth_rate=2.5 is invalid"),
        ("growth_rate", True, "growth_rate=True is invalid"),
        ("growth_rate", "32", "growth_rate='32' is invalid"),
        ("growth_rate", math.nan, "growth_rate=nan is invalid"),
        ("compression", 0.0, "compression=0.0 is invalid: allowed a number with 0 < θ ≤ 1"),
        ("compression", 1.5, "compression=1.5 is invalid"),
        ("compression", math.inf, "compression=inf is invalid"),
        ("dropout_rate", 1.0, "dropout_rate=1.0 is invalid"),
        ("block_layers", (), r"block_layers=\(\) is invalid: allowed 1 to 6 dense blocks"),
        ("block_layers", (1,) * 7, "block_layers=.* is invalid: allowed 1 to 6 dense blocks"),
        ("block_layers", (6, 0), r"block_layers=\(6, 0\) is invalid"),
        ("block_layers", (6, 129), r"each an integer from 1 to 128"),
        ("block_layers", "6,12", "block_layers='6,12' is invalid"),
        ("input_shape", (224, 224), r"input_shape=\(224, 224\) is invalid"),
        ("input_shape", (224, 224, 0), r"input_shape=\(224, 224, 0\) is invalid"),
        ("input_shape", (4096, 224, 3), r"height and width from 1 to 2048"),
        (
            "stem",
            "resnet",
            "stem='resnet' is invalid: allowed one of 'imagenet', 'cifar', 'article'",
        ),
        ("style", None, "style=None is invalid"),
        ("bottleneck", "yes", "bottleneck='yes' is invalid: allowed True or False"),
        ("classifier_activation", "relu", "classifier_activation='relu' is invalid"),
        ("num_classes", 0, "num_classes=0 is invalid"),
        ("bn_size", 9, "bn_size=9 is invalid"),
        ("init_features", 10**9, "init_features=1000000000 is invalid"),
        ("transition_features", 0, "transition_features=0 is invalid"),
    ],
)
def test_invalid_values_name_field_value_and_range(field, value, message):
    with pytest.raises(ValueError, match=message):
        DenseNetConfig(**{field: value})


def test_input_too_small_for_the_transitions_is_refused_with_the_minimum():
    # imagenet stem divides by 4, then 3 transitions halve: 29 px is the smallest that works.
    with pytest.raises(ValueError, match=r"input_shape=\(28, 28, 3\).*at least 29 px"):
        DenseNetConfig(input_shape=(28, 28, 3))
    assert DenseNetConfig(input_shape=(29, 29, 3)).input_shape == (29, 29, 3)


def test_integral_floats_and_numpy_values_are_normalised():
    config = DenseNetConfig(
        growth_rate=24.0,
        block_layers=[np.int64(2), 3.0],
        input_shape=[64.0, 64, 3],
        bottleneck=np.bool_(False),
    )
    assert config.growth_rate == 24 and type(config.growth_rate) is int
    assert config.block_layers == (2, 3)
    assert config.input_shape == (64, 64, 3)
    assert config.bottleneck is False


def test_round_trips_through_dict():
    for config in PRESETS.values():
        assert DenseNetConfig.from_dict(config.to_dict()) == config


def test_unknown_dict_field_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown config field.*depth"):
        DenseNetConfig.from_dict({"depth": 121})


@pytest.mark.parametrize(
    "value, high, expected",
    [
        (3, 10, 3),
        (3.0, 10, 3),
        (np.int64(10), 10, 10),
        (np.float64(1.0), None, 1),
        (10**12, None, 10**12),
    ],
)
def test_the_integer_checker_takes_whole_numbers_of_any_kind(value, high, expected):
    checked = check_integer("count", value, 1, high)
    assert checked == expected and type(checked) is int


@pytest.mark.parametrize(
    "value, high, message",
    [
        (0, 10, "count=0 is invalid: allowed an integer from 1 to 10"),
        (11, 10, "count=11 is invalid: allowed an integer from 1 to 10"),
        (2.5, 10, "count=2.5 is invalid"),
        (True, 10, "count=True is invalid"),
        ("3", 10, "count='3' is invalid"),
        (math.nan, 10, "count=nan is invalid"),
        (None, 10, "count=None is invalid"),
        (0, None, "count=0 is invalid: allowed an integer of at least 1"),
        (0, 55_000, "count=0 is invalid: allowed an integer from 1 to 55,000"),
    ],
)
def test_the_integer_checker_refuses_in_one_sentence_naming_the_field(value, high, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        check_integer("count", value, 1, high)
