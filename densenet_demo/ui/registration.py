"""How an endpoint is declared (`Endpoint`: name, handler, typed inputs, outputs,
description) and registered (`register`), and how a handler's results, keyed by name, reach an
event's components (`keyed`). The table itself is `endpoints`.

Each endpoint is registered without a trigger, as `gr.api` does, so no hidden button carries
it. Its inputs are published with the caller's types (an integer as int, a free number as
float, JSON with a schema an MCP client accepts) and read as the page's input of that kind
reads them, so a refusal names the field as the page labels it; its outputs are published
under short names and written as the page's output of that kind writes them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
from gradio.components.api_component import Api
from gradio.context import get_blocks_context

NO_DEFAULT = object()


class Value(Api):
    """One input or output of an endpoint: its default `value`, published under `label` with
    the schema `_api_info`, read and written as `like` (a component of the page's kind, not
    shown) reads and writes it."""

    is_template = True  # drawn as gr.api's values are: not at all

    # The parameters are Gradio's props of the page's config: `like` is kept out of them.
    def __init__(self, value: Any, _api_info: dict, label: str, like=None) -> None:
        self._like = like
        if like is not None:
            self.data_model = like.data_model  # an upload arrives as the page's would
        super().__init__(value, _api_info, label)

    def preprocess(self, payload):
        return self._like.preprocess(payload) if self._like is not None else payload

    def postprocess(self, value):
        return self._like.postprocess(value) if self._like is not None else value


@dataclass(frozen=True)
class Input:
    """A parameter: the handler's keyword `name`, read and checked as `like` (a factory of the
    page's input of its kind) reads it, which also gives its label, type and default; without
    `like`, the raw JSON value, labelled `label`, typed `schema`, with `default` if any."""

    name: str
    like: Callable[[], gr.components.Component] | None = None
    schema: dict | None = None  # None: `schema_of(like)`
    label: str | None = None  # None: like's label
    default: Any = NO_DEFAULT


@dataclass(frozen=True)
class Output:
    """A result published as `name`, written as `like` (a factory of the page's output of its
    kind) writes it and typed as it says; without `like`, JSON typed `schema`."""

    name: str
    like: Callable[[], gr.components.Component] | None = None
    schema: dict | None = None


@dataclass(frozen=True)
class Endpoint:
    name: str
    handler: Callable
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    description: str | None  # None: the handler's docstring (an agent reads its Args)
    options: Mapping[str, Any] = field(default_factory=dict)  # queue and concurrency


def keyed(handler: Callable, outputs: Mapping[str, gr.components.Component]) -> Callable:
    """`handler`, whose results are keyed by output name, with them keyed by the event's
    components: a value the event does not show (a page's State) is left out, an output
    without a value is left as it is."""

    def by_component(result):
        if not isinstance(result, dict) or "__type__" in result:  # one output's value
            return result
        shown = {outputs[name]: value for name, value in result.items() if name in outputs}
        return shown or gr.skip()

    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def stream(*args, **kwargs):
            for result in handler(*args, **kwargs):
                yield by_component(result)

        return stream

    @functools.wraps(handler)
    def call(*args, **kwargs):
        return by_component(handler(*args, **kwargs))

    return call


def wired(handler: Callable, outputs: Mapping[str, gr.components.Component]) -> dict:
    """An event's `fn` and `outputs` for a `handler` whose results are keyed by the names of
    `outputs` (see `keyed`): `button.click(**wired(handler, outputs), inputs=...)`."""
    return {"fn": keyed(handler, outputs), "outputs": list(outputs.values())}


def register(endpoints: list[Endpoint]) -> None:
    """Register each endpoint (call inside the page's `Blocks`)."""
    for endpoint in endpoints:
        inputs = {}
        for parameter in endpoint.inputs:
            like = _unrendered(parameter.like)
            default = like.value if like is not None else parameter.default
            inputs[parameter.name] = Value(
                None if default is NO_DEFAULT else default,
                parameter.schema or schema_of(like),
                parameter.label or like.label,
                like,
            )
        outputs = {}
        for result in endpoint.outputs:
            like = _unrendered(result.like)
            schema = result.schema or schema_of(like)
            outputs[result.name] = Value(None, schema, result.name, like)
        handler = endpoint.handler
        if len(outputs) > 1:
            handler = keyed(handler, outputs)
        # As `gr.api` registers a function: an event with no trigger.
        registered, _ = get_blocks_context().set_event_trigger(
            [],
            handler,
            inputs=None,
            outputs=list(outputs.values()),
            inputs_kwargs=inputs,
            api_name=endpoint.name,
            api_description=endpoint.description,
            show_progress="hidden",
            **endpoint.options,
        )
        if registered.api_name != endpoint.name:  # Gradio renamed it: the name was taken
            raise AssertionError(f"/{endpoint.name} is taken by another event")


def _unrendered(make):
    """The component `make` builds, out of the page's layout (its files stay in the cache
    cleanup's sight: Gradio keeps the file set of every component once rendered)."""
    return make().unrender() if make is not None else None


def schema_of(component: gr.components.Component) -> dict:
    """The JSON schema of `component`'s value as a caller sends or gets it: its kind's own,
    but a whole-number slider or number box an integer, a menu that takes any number a
    number, and a menu's choices an enum."""
    if isinstance(component, gr.Slider):
        whole = all(float(value).is_integer() for value in (component.minimum, component.step))
        return {
            "type": "integer" if whole else "number",
            "minimum": component.minimum,
            "maximum": component.maximum,
            "description": f"from {component.minimum:g} to {component.maximum:g}",
        }
    if isinstance(component, gr.Number):
        return {"type": "integer" if component.precision == 0 else "number"}
    if isinstance(component, (gr.Dropdown, gr.Radio)):
        values = [value for _, value in component.choices]
        numbers = all(isinstance(value, (int, float)) for value in values)
        listed = ", ".join(str(value) for value in values)
        if getattr(component, "allow_custom_value", False) and numbers:
            return {"type": "number", "description": f"any number, e.g. {listed}"}
        if all(isinstance(value, str) for value in values):
            return {"type": "string", "enum": values}
        return {"type": "number" if numbers else "string", "description": f"one of {listed}"}
    return component.api_info_as_output()
