"""Gradio number inputs whose errors name the control.

Gradio validates slider and number bounds itself, but its message ("Value 300 is greater than
maximum value 64.") does not say which input was wrong; an API caller sends a dozen.
"""

from __future__ import annotations

import gradio as gr


def _named_preprocess(component, preprocess, payload):
    try:
        return preprocess(payload)
    except gr.Error as error:
        raise gr.Error(f"{component.label}: {error.message}", print_exception=False) from None
    except (TypeError, ValueError, OverflowError):
        raise gr.Error(f"{component.label}: {payload!r} is not a number",
                       print_exception=False) from None


class Slider(gr.Slider):
    is_template = True  # rendered by Gradio's own slider

    def preprocess(self, payload):
        return _named_preprocess(self, super().preprocess, payload)


class Number(gr.Number):
    is_template = True  # rendered by Gradio's own number box

    def preprocess(self, payload):
        return _named_preprocess(self, super().preprocess, payload)
