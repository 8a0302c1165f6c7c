"""Handlers of the Classify tab: an upload in, top-k classes, the model's view and timing out."""

from __future__ import annotations

import time
from pathlib import Path

import gradio as gr
from PIL import Image, UnidentifiedImageError

from .batcher import MicroBatcher
from .classifier import Classifier, load_classifier
from .controls import UNREADABLE_IMAGE

PREVIEW_SCALE = 8  # the 28x28 input shown 8x larger, pixels kept sharp


class ClassifyService:
    """One classifier, loaded and warmed up once, shared by all requests through a batcher."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier
        self.batcher = MicroBatcher(classifier.predict_batch)

    @classmethod
    def load(cls, name: str = "fashion",
             weights_dir: str | Path | None = None) -> tuple[ClassifyService | None, str]:
        """(service, "") or (None, the one-sentence reason it is unavailable)."""
        try:
            return cls(load_classifier(name, weights_dir)), ""
        except (ValueError, OSError) as error:
            return None, (f"The {name} model is unavailable ({error}). Train it with "
                          f"`python -m densenet_demo train`, which writes weights/{name}.*")

    def classify(self, image: str | None, top_k: float) -> tuple[dict, Image.Image, str]:
        """(gr.Label value, the enlarged 28x28 model input, latency line) for one upload."""
        started = time.perf_counter()
        if image is None:
            raise gr.Error("No image: upload a picture, take one with the webcam or paste one.",
                           print_exception=False)
        try:
            top_k = self.classifier.check_top_k(int(top_k) if float(top_k).is_integer()
                                                else top_k)
        except (ValueError, TypeError, OverflowError) as error:
            raise gr.Error(str(error), print_exception=False) from None
        try:
            seen = self.classifier.model_input(image)
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
                SyntaxError):
            raise gr.Error(UNREADABLE_IMAGE, print_exception=False) from None
        prepared = time.perf_counter()
        probabilities = self.batcher.submit(seen)
        result = self.classifier.top(probabilities, top_k)
        finished = time.perf_counter()
        height, width = seen.shape
        preview = Image.fromarray(seen).resize((width * PREVIEW_SCALE, height * PREVIEW_SCALE),
                                               Image.Resampling.NEAREST)
        timing = (f"Predicted in {(finished - started) * 1e3:.1f} ms on the server "
                  f"(reading and preparing the image {(prepared - started) * 1e3:.1f} ms, "
                  f"model {(finished - prepared) * 1e3:.1f} ms).")
        return {label: probability for label, probability in result}, preview, timing

    def classify_on_page(self, image: str | None, top_k: float) -> tuple:
        """As `classify`, but a cleared picture clears the results instead of raising."""
        if image is None:
            return None, None, ""
        return self.classify(image, top_k)


def example_images(folder: Path) -> list[str]:
    """The gallery: real Fashion-MNIST test images shipped as PNG."""
    return sorted(str(path) for path in folder.glob("*.png"))
