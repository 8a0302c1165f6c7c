"""Gradio inputs whose errors say what was wrong in one sentence.

Gradio validates slider and number bounds itself, but its message ("Value 300 is greater than
maximum value 64.") does not say which input was wrong; an API caller sends a dozen. And an
upload that is not an image fails inside gr.Image with a generic "an exception was raised".
"""

from __future__ import annotations

import gradio as gr
from PIL import Image as PILImage

UNREADABLE_IMAGE = ("This file could not be read as an image: upload a PNG, JPEG, WebP, GIF or "
                    "BMP picture.")


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


class Image(gr.Image):
    is_template = True  # rendered by Gradio's own image component

    def preprocess(self, payload):
        try:
            return super().preprocess(payload)
        except gr.Error:
            raise
        except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError):
            raise gr.Error(UNREADABLE_IMAGE, print_exception=False) from None
