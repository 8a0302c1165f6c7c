"""The Explore control spec: every config field has a control, values and configs convert both
ways, and the page and API follow the spec's order and names."""

import dataclasses

import pytest

from densenet_demo import PRESETS, DenseNetConfig
from densenet_demo.architecture.controls import (
    BATCH_SIZE,
    CONTROL_NAMES,
    CONTROLS,
    DEFAULT_PRESET,
    MEMORY_CONTROLS,
    MEMORY_SIZE,
    OPTIMIZER,
    check_memory,
    check_memory_inputs,
    config_from_controls,
    controls_from_config,
    preset_controls,
)


def test_every_config_field_is_fed_by_a_control():
    fed = {control.field for control in CONTROLS if control.field}
    assert fed == {field.name for field in dataclasses.fields(DenseNetConfig)}
    shape = [control.position for control in CONTROLS if control.field == "input_shape"]
    assert sorted(shape) == [0, 1, 2]


def test_control_names_are_unique_and_the_batch_size_is_not_a_config_control():
    assert len(set(CONTROL_NAMES)) == len(CONTROLS)
    assert BATCH_SIZE.name not in CONTROL_NAMES and BATCH_SIZE.field is None


@pytest.mark.parametrize("name", PRESETS)
def test_each_preset_round_trips_through_the_control_values(name):
    values = preset_controls(name)
    assert list(values) == list(CONTROL_NAMES)
    assert config_from_controls(values) == PRESETS[name]


def test_the_page_opens_on_the_default_preset():
    assert config_from_controls(preset_controls(DEFAULT_PRESET)) == DenseNetConfig()


def test_a_transition_width_of_zero_means_compression_and_text_layers_are_parsed():
    config = dataclasses.replace(PRESETS["article"], block_layers=(3, 5))
    values = controls_from_config(config, "custom")
    assert values["transition_features"] == 128 and values["block_layers"] == "3, 5"
    values.update(transition_features=0, block_layers="2; 4")
    assert config_from_controls(values) == dataclasses.replace(
        config, transition_features=None, block_layers=(2, 4)
    )


def test_the_memory_inputs_follow_the_config_controls_and_take_defaults_when_not_sent():
    names = [control.name for control in MEMORY_CONTROLS]
    assert names == ["batch_size", "optimizer", "memory_gib"]
    assert not set(names) & set(CONTROL_NAMES)
    assert all(control.field is None for control in MEMORY_CONTROLS)
    assert check_memory_inputs({"batch_size": 64.0}) == (
        64,
        OPTIMIZER.default,
        MEMORY_SIZE.default,
    )
    assert check_memory_inputs({"batch_size": 8, "optimizer": "adam", "memory_gib": "12"}) == (
        8,
        "adam",
        12.0,
    )
    assert check_memory(64.0, "adam", 24) == (64, "adam", 24.0)


@pytest.mark.parametrize(
    "refuse, message",
    [
        (
            lambda: config_from_controls({**preset_controls("densenet121"), "width": "wide"}),
            r"^input_shape=\(224, 'wide', 3\) is invalid",
        ),
        (
            lambda: check_memory_inputs({"batch_size": 8, "memory_gib": "a lot"}),
            r"^memory_gib='a lot' is invalid: allowed a number of GiB",
        ),
        (lambda: check_memory(0), r"^batch_size=0 is invalid: allowed an integer from 1 to 4,096$"),
        (lambda: check_memory(8, "rmsprop"), r"^optimizer='rmsprop' is invalid"),
    ],
    ids=["width of the wrong kind", "memory_gib not a number", "batch_size 0", "optimizer"],
)
def test_a_bad_control_value_is_refused_naming_its_field(refuse, message):
    """The config controls name the config field they feed; the memory inputs name themselves."""
    with pytest.raises(ValueError, match=message):
        refuse()
