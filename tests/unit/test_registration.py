"""How endpoints are declared, without a server: the types a caller sees for the page's kinds
of input, and handler results keyed by name reaching an event's components."""

import gradio as gr
import pytest

from densenet_demo.architecture.controls import CONTROLS, MEMORY_CONTROLS
from densenet_demo.ui.components import component_for
from densenet_demo.ui.registration import keyed, schema_of

BY_NAME = {control.name: control for control in (*CONTROLS, *MEMORY_CONTROLS)}


@pytest.mark.parametrize(
    "name, kind",
    [
        ("growth_rate", "integer"),  # a slider of whole steps
        ("bn_size", "integer"),
        ("height", "integer"),  # a number box without decimals
        ("batch_size", "integer"),
        ("compression", "number"),  # a slider of 0.05 steps
        ("dropout_rate", "number"),
        ("memory_gib", "number"),  # a menu of GPUs that takes any number
        ("block_layers", "string"),
        ("bottleneck", "boolean"),
    ],
)
def test_each_input_is_published_with_the_callers_type(name, kind):
    control = BY_NAME[name]
    assert schema_of(component_for(control, control.default))["type"] == kind


def test_a_menu_of_names_is_published_as_its_choices():
    schema = schema_of(component_for(BY_NAME["stem"], "imagenet"))
    assert schema == {"type": "string", "enum": ["imagenet", "cifar", "article"]}


def test_results_keyed_by_name_reach_the_events_components():
    with gr.Blocks():
        first, second = gr.Textbox(), gr.Number()
    outputs = {"first": first, "second": second}
    assert keyed(lambda: {"first": "a", "hidden": 1}, outputs)() == {first: "a"}
    assert keyed(lambda: {}, outputs)() == gr.skip()  # nothing changes

    def stream():
        yield {"second": 1}
        yield {"first": "b", "second": 2}

    assert list(keyed(stream, outputs)()) == [{second: 1}, {first: "b", second: 2}]
    assert keyed(stream, outputs).__name__ == "stream"  # the MCP tool keeps its name
