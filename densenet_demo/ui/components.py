"""Gradio inputs, and a page, whose errors say what was wrong in one sentence; and the input
a `Control` of the Explore spec becomes.

Gradio validates slider and number bounds and dropdown and radio choices itself, but its
message ("Value 300 is greater than maximum value 64.") does not say which input was wrong; an
API caller sends a dozen. An upload that is not an image fails inside gr.Image with a generic
"an exception was raised", and a call with too few values gets `"error": null`. Values are
quoted cut short (`short_repr`).
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile

import gradio as gr
from PIL import Image as PILImage

from ..architecture.config import short_repr
from ..architecture.controls import Control
from ..inference.image_file import UNREADABLE_IMAGE, check_image_file
from ..inference.runs import is_run_id


class Blocks(gr.Blocks):
    """A page that tells an API caller who sent too few values how many each endpoint takes
    (Gradio's own message is meant for developers and withheld from callers)."""

    def validate_inputs(self, block_fn, inputs):
        if len(inputs) < len(block_fn.inputs):
            names = ", ".join(
                getattr(block, "label", None) or block.get_block_name() for block in block_fn.inputs
            )
            wanted = len(block_fn.inputs)
            raise gr.Error(
                f"/{block_fn.api_name} takes {wanted} value{'s' * (wanted > 1)} "
                f"({names}); got {len(inputs)}.",
                print_exception=False,
            )


def ui_error(error: Exception) -> gr.Error:
    """An error's one sentence as the page and API callers see it (no traceback in the log:
    a refused value is not a fault)."""
    return gr.Error(str(error), print_exception=False)


def _named_preprocess(component, preprocess, payload):
    try:
        return preprocess(payload)
    except gr.Error as error:
        raise gr.Error(f"{component.label}: {error.message}", print_exception=False) from None
    except (TypeError, ValueError, OverflowError):
        raise gr.Error(
            f"{component.label}: {short_repr(payload)} is not a number", print_exception=False
        ) from None


def _choice_preprocess(component, preprocess, payload):
    try:
        return preprocess(payload)
    except gr.Error:
        allowed = ", ".join(repr(value) for _, value in component.choices)
        raise gr.Error(
            f"{component.label}: {short_repr(payload)} is not one of {allowed}",
            print_exception=False,
        ) from None


class Slider(gr.Slider):
    is_template = True  # rendered by Gradio's own slider

    def preprocess(self, payload):
        return _named_preprocess(self, super().preprocess, payload)


class Number(gr.Number):
    is_template = True  # rendered by Gradio's own number box

    def preprocess(self, payload):
        return _named_preprocess(self, super().preprocess, payload)


class Dropdown(gr.Dropdown):
    is_template = True  # rendered by Gradio's own dropdown

    def preprocess(self, payload):
        return _choice_preprocess(self, super().preprocess, payload)


class ModelDropdown(Dropdown):
    """The Classify model menu: its choices, or the id of a saved Train-tab run (a run added
    to one page's menu is not among another caller's choices; the server checks the run)."""

    is_template = True

    def preprocess(self, payload):
        return payload if is_run_id(payload) else super().preprocess(payload)


class Radio(gr.Radio):
    is_template = True  # rendered by Gradio's own radio group

    def preprocess(self, payload):
        return _choice_preprocess(self, super().preprocess, payload)


class Image(gr.Image):
    is_template = True  # rendered by Gradio's own image component

    def preprocess(self, payload):
        # Gradio opens (and may convert) the file itself: refuse a bomb or an unsupported
        # format from its header first, with the reason.
        source = _upload_source(payload) if payload is not None else None
        if source is not None:
            try:
                image_format = check_image_file(source)
            except ValueError as error:
                raise ui_error(error) from None
            if isinstance(source, bytes) and self.type == "filepath":
                return self._kept(source, image_format)
        try:
            return super().preprocess(payload)
        except gr.Error:
            raise
        except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError):
            raise gr.Error(UNREADABLE_IMAGE, print_exception=False) from None

    def _kept(self, data: bytes, image_format: str) -> str:
        """A data: URL's image, kept as sent, like an upload. Gradio would decode it and save
        it again as WebP, clipping a 16-bit grey to white, in a file its cache cleanup never
        sees; this one is deleted with the uploads."""
        os.makedirs(self.GRADIO_CACHE, exist_ok=True)
        handle, path = tempfile.mkstemp(
            dir=self.GRADIO_CACHE, prefix="inline-", suffix="." + image_format.lower()
        )
        self.temp_files.add(path)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        return path


def _upload_source(payload):
    """The uploaded file's path, or the bytes of a data: URL (API callers may send one)."""
    if payload.url and payload.url.startswith("data:"):
        try:
            return base64.b64decode(payload.url.partition(",")[2], validate=True)
        except binascii.Error:
            return b""  # not base64: refused as unreadable
    return payload.path


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
