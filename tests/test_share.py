"""A shared link and the generated code carry exactly the configuration on screen."""

from types import SimpleNamespace
from urllib.parse import parse_qsl

import pytest

from densenet_demo import PRESETS, DenseNetConfig
from densenet_demo.architecture.controls import CONTROL_NAMES, config_from_controls
from densenet_demo.architecture.share import config_code, from_query, to_query
from densenet_demo.ui.explore_tab import load_link


@pytest.mark.parametrize("name", PRESETS)
def test_query_round_trips_every_preset(name):
    query = to_query(PRESETS[name], name)
    assert from_query(dict(parse_qsl(query))) == PRESETS[name]


def test_bad_link_values_name_the_field():
    with pytest.raises(ValueError, match="growth_rate='lots' in the link"):
        from_query({"growth_rate": "lots"})
    with pytest.raises(ValueError, match="growth_rate=0 is invalid"):
        from_query({"growth_rate": "0"})


def test_generated_code_rebuilds_the_same_config():
    config = DenseNetConfig(
        growth_rate=12,
        block_layers=(3, 5),
        compression=0.7,
        input_shape=(64, 64, 1),
        stem="cifar",
        transition_features=20,
    )
    scope = {}
    exec(config_code(config).split("model = ")[0], scope)
    assert scope["config"] == config


def test_opening_a_link_restores_the_controls():
    config = DenseNetConfig(
        growth_rate=12, block_layers=(3, 5), input_shape=(64, 64, 1), stem="cifar"
    )
    request = SimpleNamespace(query_params=dict(parse_qsl(to_query(config))))
    values = load_link(request)
    assert config_from_controls(dict(zip(CONTROL_NAMES, values))) == config
    assert "Custom configuration" in values[len(CONTROL_NAMES)]


def test_a_broken_link_falls_back_to_the_preset():
    request = SimpleNamespace(query_params={"preset": "article", "growth_rate": "x"})
    values = load_link(request)
    assert config_from_controls(dict(zip(CONTROL_NAMES, values))) == PRESETS["article"]
