"""Why a model chose its top class: Grad-CAM laid over the upload and over the model's input."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .classifier import Classifier
from .gradcam import gradcam, overlay
from .preprocess import open_image

DISPLAY_SIDE = 512  # the upload is shown at most this large: a 25 MP overlay helps nobody
PREVIEW_SIDE = 224  # a small model input (28x28) is shown enlarged to this, pixels kept sharp


def enlarged(seen: np.ndarray, side: int = PREVIEW_SIDE) -> Image.Image:
    """A model input as shown on the page: a small one scaled up by a whole factor to at most
    `side` pixels, pixels kept sharp."""
    height, width = seen.shape[:2]
    scale = max(1, side // max(height, width))
    return Image.fromarray(seen).resize((width * scale, height * scale),
                                        Image.Resampling.NEAREST)


def explain(classifier: Classifier, image, opacity: float) -> tuple[Image.Image, Image.Image,
                                                                     str]:
    """(heat map on the upload, heat map on the model input, one line naming the class).

    Raises `ValueError` in one sentence for an unreadable image or an opacity outside [0, 1].
    """
    if isinstance(opacity, bool) or not isinstance(opacity, (int, float)) \
            or not 0.0 <= float(opacity) <= 1.0:  # checked before any model work
        raise ValueError(f"opacity={opacity!r} is invalid: allowed a number from 0 to 1")
    picture = open_image(image)
    seen, box = classifier.model_input_and_box(picture)  # decoded once: open_image is idempotent
    probabilities = classifier.predict_batch(seen[None])[0]
    chosen = int(np.argmax(probabilities))
    heat = gradcam(classifier.model, classifier.standardise(seen[None])[0], chosen)

    shrink = min(1.0, DISPLAY_SIDE / max(picture.size))
    shown = picture.resize((max(1, round(picture.width * shrink)),
                            max(1, round(picture.height * shrink))), Image.Resampling.LANCZOS)
    on_upload = overlay(shown, heat, opacity, tuple(edge * shrink for edge in box))
    on_input = overlay(enlarged(seen), heat, opacity)
    caption = (f"Grad-CAM for **{classifier.class_names[chosen]}** "
               f"({probabilities[chosen]:.1%}): red marks the pixels that raised this class's "
               f"score most, blue those that did not.")
    return on_upload, on_input, caption
