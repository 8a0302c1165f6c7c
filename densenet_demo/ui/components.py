"""The inputs the tabs use, and the input a `Control` of the Explore spec becomes.

The inputs are Gradio's with the workarounds of `gradio_fixes` (their refusals name the input
in one sentence); the Classify model menu also takes a saved run's id.
"""

from __future__ import annotations

import gradio as gr

from ..architecture.controls import Control
from ..inference.runs import is_run_id
from .gradio_fixes import Blocks, Dropdown, Image, Number, Radio, Slider

__all__ = [
    "Blocks",
    "Dropdown",
    "Image",
    "ModelDropdown",
    "Number",
    "Radio",
    "Slider",
    "component_for",
    "ui_error",
]


def ui_error(error: Exception) -> gr.Error:
    """An error's one sentence as the page and API callers see it (no traceback in the log:
    a refused value is not a fault)."""
    return gr.Error(str(error), print_exception=False)


class ModelDropdown(Dropdown):
    """The Classify model menu: its choices, or the id of a saved Train-tab run (a run added
    to one page's menu is not among another caller's choices; the server checks the run)."""

    is_template = True

    def preprocess(self, payload):
        return payload if is_run_id(payload) else super().preprocess(payload)


def component_for(control: Control, value) -> gr.components.Component:
    """The input that shows `control` with `value`, labelled and bounded as the spec says."""
    common = {"label": control.label, "info": control.info}
    if control.kind == "slider":
        return Slider(control.minimum, control.maximum, value=value, step=control.step, **common)
    if control.kind == "number":
        return Number(value, precision=0, **common)
    if control.kind == "dropdown":
        return Dropdown(
            list(control.choices),
            value=value,
            allow_custom_value=control.custom_value,
            **common,
        )
    if control.kind == "radio":
        return Radio(list(control.choices), value=value, **common)
    if control.kind == "checkbox":
        return gr.Checkbox(value, **common)
    if control.kind == "text":
        return gr.Textbox(value, **common)
    raise AssertionError(f"no component for control kind {control.kind!r}")
