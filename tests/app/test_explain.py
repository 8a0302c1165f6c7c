"""Grad-CAM in the Classify tab: the function, and `/explain` through gradio_client."""

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from densenet_demo.inference.classifier import load_classifier
from densenet_demo.inference.gradcam import explain

from support import EXAMPLE


@pytest.fixture(scope="module")
def tiny(tiny_weights_dir):
    return load_classifier("fashion", tiny_weights_dir)


def test_explain_overlays_the_top_class_on_the_upload_and_on_the_model_input(tiny, tmp_path):
    # A real test image enlarged and inverted, as a photo of a dark item on white would be.
    photo = Image.fromarray(255 - np.asarray(Image.open(EXAMPLE))).resize((300, 300))
    path = tmp_path / "photo.png"
    photo.save(path)
    explanation = explain(tiny, str(path))
    on_upload, on_input = explanation.overlays(0.5)
    top = tiny.predict(str(path), 1)[0][0]
    assert on_upload.size == (300, 300) and on_input.size == (224, 224)
    assert f"**{top}**" in explanation.caption
    # Opacity 0 gives back the pictures themselves: the overlay changes nothing else.
    plain_upload, plain_input = explanation.overlays(0.0)
    assert np.array_equal(np.asarray(plain_upload), np.asarray(photo.convert("RGB")))
    assert not np.array_equal(np.asarray(plain_input), np.asarray(on_input))


def test_a_small_upload_is_shown_enlarged_with_sharp_pixels(tiny):
    explanation = explain(tiny, str(EXAMPLE))  # 28 x 28
    assert explanation.upload.size == (224, 224)
    original = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    assert np.array_equal(np.asarray(explanation.overlays(0.0)[0])[::8, ::8], original)


@pytest.mark.parametrize("opacity", [-0.1, 1.5, float("nan"), "half", True])
def test_an_opacity_outside_0_to_1_is_refused(tiny, opacity):
    with pytest.raises(ValueError, match="opacity"):
        explain(tiny, str(EXAMPLE)).overlays(opacity)


def test_explain_endpoint_returns_both_heat_maps(classify_app_url):
    client = Client(classify_app_url, verbose=False)
    on_upload, on_input, caption = client.predict(
        handle_file(str(EXAMPLE)), "fashion", 0.6, api_name="/explain"
    )
    assert Image.open(on_upload).size == Image.open(on_input).size == (224, 224)
    assert caption.startswith("Grad-CAM for")
    with pytest.raises(AppError, match="Heat map opacity"):
        client.predict(handle_file(str(EXAMPLE)), "fashion", 7, api_name="/explain")
