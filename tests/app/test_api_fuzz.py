"""Arbitrary values for every Explore control: a result or one clear error naming the field.

Hypothesis drives the handlers directly (many examples, fast); a smaller set of junk payloads
goes to the running app over raw HTTP, which must answer each and keep serving.
"""

import json
import math
from datetime import timedelta

import gradio as gr
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from densenet_demo.architecture.config import DenseNetConfig
from densenet_demo.architecture.controls import (
    CONTROL_NAMES,
    CONTROLS,
    MEMORY_CONTROLS,
    config_from_controls,
    preset_controls,
)
from densenet_demo.architecture.summary import BUILD_LIMITS, summarize
from densenet_demo.ui.explore_tab import VIEWS, build_with_keras, explore

DENSENET121 = preset_controls("densenet121")
# The config field each control feeds: the name an error must give.
FIELD = {control.name: control.field or control.name for control in CONTROLS + MEMORY_CONTROLS}
HANG_GUARD = timedelta(seconds=30)  # per example: a hang guard, not a speed target

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 10**30, -1, 0, 2**63, 1e308]),
    st.text(max_size=30),
    st.sampled_from(["", "32", "nan", "1e400", "6,12", "9" * 5000]),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=8), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
block_lists = st.one_of(
    st.lists(st.integers(min_value=-5, max_value=300), max_size=12),
    st.lists(st.integers(min_value=1, max_value=128), min_size=1, max_size=6),
    st.lists(junk, max_size=10),
    st.sampled_from(["1," * 7, "1," * 100_000, "1;" * 3, ",,,"]),
    st.text(alphabet="0123456789,; -", max_size=60),
)


def controls_with(changes):
    return {**DENSENET121, **changes}


@st.composite
def fuzzed_controls(draw, values=junk):
    """densenet121's controls with one to four of them replaced by arbitrary values."""
    names = draw(st.lists(st.sampled_from(CONTROL_NAMES), min_size=1, max_size=4, unique=True))
    changes = {
        name: draw(block_lists if name == "block_layers" and draw(st.booleans()) else values)
        for name in names
    }
    return controls_with(changes), names


def assert_names_a_changed_field(message, changed):
    fields = {FIELD[name] for name in changed}
    assert any(message.startswith(f"{field}=") for field in fields), (message, changed)
    assert len(message) < 400, message  # one sentence, not an echo of the input


def gives_a_config_or_names_the_bad_field(case):
    controls, changed = case
    try:
        config = config_from_controls(controls)
    except ValueError as error:
        assert_names_a_changed_field(str(error), changed)
    else:
        assert DenseNetConfig.from_dict(config.to_dict()) == config  # valid, and stays so


# 400 examples in all: 100 in the fast loop, the other 300 with the slow tests.
@settings(max_examples=100, deadline=HANG_GUARD, suppress_health_check=[HealthCheck.too_slow])
@given(fuzzed_controls())
def test_config_from_controls_gives_a_config_or_names_the_bad_field(case):
    gives_a_config_or_names_the_bad_field(case)


@pytest.mark.slow
@settings(max_examples=300, deadline=HANG_GUARD, suppress_health_check=[HealthCheck.too_slow])
@given(fuzzed_controls())
def test_config_from_controls_gives_a_config_or_names_the_bad_field_in_300_more_cases(case):
    gives_a_config_or_names_the_bad_field(case)


@settings(max_examples=60, deadline=HANG_GUARD, suppress_health_check=[HealthCheck.too_slow])
@given(
    fuzzed_controls(),
    st.one_of(st.just(32), junk),
    st.one_of(st.just("adam"), junk),
    st.one_of(st.just(16), junk),
)
def test_explore_gives_every_view_or_one_clear_error(case, batch_size, optimizer, memory_gib):
    controls, changed = case
    try:
        views = explore(
            **controls, batch_size=batch_size, optimizer=optimizer, memory_gib=memory_gib
        )
    except gr.Error as error:
        assert_names_a_changed_field(
            error.message, changed + ["batch_size", "optimizer", "memory_gib"]
        )
    else:
        assert list(views) == list(VIEWS) and "| Parameters |" in views["headline"]


@settings(max_examples=30, deadline=HANG_GUARD, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(min_value=1, max_value=128), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=256),
    st.integers(min_value=29, max_value=2048),
)
def test_keras_builds_above_the_limits_are_refused_before_any_keras_work(blocks, growth, side):
    controls = controls_with(
        {
            "block_layers": ", ".join(map(str, blocks)),
            "growth_rate": growth,
            "height": side,
            "width": side,
        }
    )
    try:
        config = config_from_controls(controls)
    except ValueError:
        return  # e.g. too small for that many transitions: explore's tests cover the message
    refusal = summarize(config).build_refusal()
    if refusal is None:
        return  # within the limits: building it is test_explore_api's business
    with pytest.raises(
        gr.Error, match="Not built: model too large to build here: .* exceeds the limit of"
    ):
        build_with_keras(**controls)


def test_the_build_limits_are_what_the_readme_documents():
    assert BUILD_LIMITS == {
        "parameters": 50_000_000,
        "activation memory for one image (MiB)": 1024,
        "Keras layers": 1_500,
    }


# Through the running app: raw HTTP, as any client can send it.


def run_explore(app_url, body: str):
    return httpx.post(
        app_url + "gradio_api/run/explore",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )


def payload(**changes):
    """densenet121's values, batch size 32 and the default optimizer and memory size, with
    `changes`, in /explore's order."""
    memory = {control.name: control.default for control in MEMORY_CONTROLS}
    values = {**DENSENET121, **memory, "batch_size": 32, **changes}
    # NaN and Infinity become bare tokens, as json allows.
    return json.dumps({"data": list(values.values())})


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"growth_rate": 0}, "Growth rate k: Value 0 is less than minimum value 1"),
        ({"height": math.nan}, "Input height: nan is not a number"),
        ({"width": math.inf}, "Input width: inf is not a number"),
        ({"growth_rate": math.nan}, "growth_rate=nan is invalid"),
        ({"num_classes": 10**30}, "num_classes=1000000000000000000000000000000 is invalid"),
        ({"height": -5}, "input_shape=(-5, 224, 3) is invalid"),
        (
            {"height": 16},
            "input_shape=(16, 224, 3) is invalid: allowed height and width of at least 29 px",
        ),
        ({"compression": 7.0}, "Compression θ (transitions keep θ·m channels: -C): Value 7.0"),
        (
            {"compression": "half"},
            "Compression θ (transitions keep θ·m channels: -C): 'half' is not a number",
        ),
        ({"bottleneck": None}, "bottleneck=None is invalid"),
        ({"block_layers": "six, twelve"}, "block_layers='six, twelve' is invalid: allowed comma"),
        ({"block_layers": ""}, "block_layers=() is invalid: allowed 1 to 6 dense blocks"),
        (
            {"block_layers": "1," * 100_000},
            "block_layers=(1, 1, 1, 1, 1, 1, ...) is invalid: allowed 1 to 6 dense blocks",
        ),
        ({"block_layers": "9" * 5000}, "block_layers='99999999999"),
        ({"block_layers": [[1, 2], {"a": 3}]}, "block_layers=\"[[1, 2], {'a': 3}]\" is invalid"),
        ({"height": "224"}, "Input height: '224' is not a number"),
        ({"growth_rate": True}, "growth_rate=True is invalid"),
        ({"stem": "resnet"}, "Stem: 'resnet' is not one of 'imagenet', 'cifar', 'article'"),
        ({"style": {"nested": [1, [2]]}}, "Layer style: {'nested': [...]} is not one of"),
        ({"preset": 42}, "Preset: 42 is not one of 'densenet121'"),
        (
            {"classifier_activation": ["softmax", "relu"]},
            "Classifier activation: ['softmax', 'relu'] is not one of",
        ),
        ({"transition_features": 1e300}, "transition_features=100000000000000005...638"),
        (
            {"batch_size": 10**30},
            "batch_size=1000000000000000000000000000000 is invalid: allowed an integer from 1 to "
            "4,096",
        ),
        ({"optimizer": "rmsprop"}, "Optimizer (its state is counted): 'rmsprop' is not one of"),
        ({"memory_gib": "lots"}, "memory_gib='lots' is invalid: allowed a number of GiB"),
        ({"memory_gib": 0}, "memory_gib=0 is invalid: allowed a number of GiB from 0.5"),
        ({"memory_gib": math.nan}, "memory_gib=nan is invalid"),
        ({"memory_gib": "1e400"}, "memory_gib='1e400' is invalid"),
        ({"memory_gib": [16, {"a": 1}]}, "memory_gib=[16, {...}] is invalid"),
        ({"dropout_rate": -math.inf}, "Dropout after each conv: Value -inf is less than minimum"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_a_bad_value_sent_to_explore_gets_one_error_naming_the_field(app_url, changes, message):
    """The app level's table of refusals: each as the page labels the field or as the config
    names it, in one sentence; and the app keeps serving."""
    response = run_explore(app_url, payload(**changes))
    assert response.status_code >= 400
    error = response.json()["error"]
    assert error.startswith(message), error
    assert len(error) < 400 and "\n" not in error
    answer = run_explore(app_url, payload())
    assert answer.status_code == 200 and "8,062,504" in answer.json()["data"][0]


MALFORMED = {
    "empty": "",
    "not JSON": "garbage",
    "null": "null",
    "a list": "[1, 2]",
    "data null": '{"data": null}',
    "data a string": '{"data": "densenet121"}',
    "no values": '{"data": []}',
    "10,001 values": '{"data": [' + "1," * 10_000 + "1]}",
    "data an object": '{"data": {"a": 1}}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_requests_are_refused_and_the_server_keeps_serving(app_url, body):
    assert run_explore(app_url, body).status_code >= 400
    answer = run_explore(app_url, payload())
    assert answer.status_code == 200 and "8,062,504" in answer.json()["data"][0]


def test_a_call_with_too_few_values_is_told_what_the_endpoint_takes(app_url):
    endpoints = httpx.get(app_url + "gradio_api/info", timeout=10).json()["named_endpoints"]
    taking = {
        name: endpoint["parameters"]
        for name, endpoint in endpoints.items()
        if endpoint["parameters"]
    }
    assert {"/explore", "/predict", "/explain", "/build_keras"} <= set(taking)
    for name, parameters in taking.items():
        response = httpx.post(
            app_url + "gradio_api/run" + name,
            timeout=60,
            json={"data": [parameter["parameter_default"] for parameter in parameters[:-1]]},
        )
        error = response.json()["error"]
        plural = "s" if len(parameters) > 1 else ""
        assert error.startswith(f"{name} takes {len(parameters)} value{plural} (")
        assert error.endswith(f"; got {len(parameters) - 1}.") and "\n" not in error


def test_a_keras_build_above_the_limits_is_refused_over_http(app_url):
    body = payload(block_layers="128, 128, 128, 128, 128, 128", growth_rate=64)
    values = json.loads(body)["data"][: len(CONTROL_NAMES)]
    join = httpx.post(app_url + "gradio_api/call/build_keras", json={"data": values}, timeout=60)
    stream = httpx.get(
        app_url + f"gradio_api/call/build_keras/{join.json()['event_id']}", timeout=120
    )
    assert "event: error" in stream.text
    assert "Not built: model too large to build here" in stream.text
