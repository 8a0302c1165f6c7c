"""A shared link, the JSON and the generated code carry exactly the configuration on screen,
and what is read back is checked."""

import dataclasses
import json
from types import SimpleNamespace
from urllib.parse import parse_qsl

import pytest

from densenet_demo import PRESETS, DenseNetConfig
from densenet_demo.architecture.controls import config_from_controls
from densenet_demo.architecture.share import (
    config_code,
    config_json,
    file_stem,
    from_query,
    read_config,
    to_query,
)
from densenet_demo.ui.explore_tab import load_link


@pytest.mark.parametrize("name", PRESETS)
def test_query_round_trips_every_preset(name):
    query = to_query(PRESETS[name], name)
    assert from_query(dict(parse_qsl(query))) == PRESETS[name]


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
    assert config_from_controls(values) == config
    assert "Custom configuration" in values["headline"]


def test_a_broken_link_falls_back_to_the_preset():
    request = SimpleNamespace(query_params={"preset": "article", "growth_rate": "x"})
    values = load_link(request)
    assert config_from_controls(values) == PRESETS["article"]


@pytest.mark.parametrize("name", PRESETS)
def test_the_json_export_reads_back_as_the_same_config(name):
    assert DenseNetConfig.from_dict(json.loads(config_json(PRESETS[name]))) == PRESETS[name]


CUSTOM = DenseNetConfig(growth_rate=12, block_layers=(3, 5), compression=0.7, stem="cifar")


@pytest.mark.parametrize(
    "given",
    [
        CUSTOM.to_dict(),
        config_json(CUSTOM),
        to_query(CUSTOM),
        "?" + to_query(CUSTOM),
        "http://127.0.0.1:7860/?" + to_query(CUSTOM, "densenet-40"),
    ],
    ids=["dict", "JSON text", "query string", "?query", "link"],
)
def test_a_config_is_read_from_json_or_a_link(given):
    assert read_config(given) == CUSTOM


def test_a_link_naming_only_a_preset_is_that_preset():
    assert read_config("https://example.org/?preset=article") == PRESETS["article"]


@pytest.mark.parametrize(
    "given, message",
    [
        ("", "config_b='' is not a configuration: allowed a JSON object"),
        ("hello", "config_b='hello' is not a configuration"),
        (42, "config_b=42 is not a configuration"),
        ("{not json", "config_b is not valid JSON"),
        ({"growth": 12}, "config_b: unknown config field(s): growth; allowed: block_layers"),
        ({"growth_rate": 0}, "config_b: growth_rate=0 is invalid: allowed an integer from 1"),
        ("growth_rate=lots", "config_b: growth_rate='lots' in the link could not be read"),
        ("?growth_rate=0", "config_b: growth_rate=0 is invalid: allowed an integer from 1"),
    ],
    ids=lambda value: repr(value)[:30],
)
def test_what_is_not_a_config_is_refused_in_one_line_naming_it(given, message):
    with pytest.raises(ValueError) as error:
        read_config(given, "config_b")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_files_are_named_after_their_preset():
    assert file_stem(PRESETS["densenet169"]) == "densenet169"
    assert file_stem(CUSTOM) == "densenet-custom"


def test_a_hand_written_link_starts_from_the_preset_it_names():
    from densenet_demo.architecture.share import from_query

    assert from_query({"preset": "fashion", "growth_rate": "24"}) == dataclasses.replace(
        PRESETS["fashion"], growth_rate=24
    )
    assert from_query({"growth_rate": "24"}) == dataclasses.replace(
        DenseNetConfig(), growth_rate=24
    )
