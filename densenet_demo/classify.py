"""Handlers of the Classify tab: an upload and a model choice in, top-k classes, the model's
view and timing out."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import gradio as gr
from PIL import Image

from .batcher import MicroBatcher
from .classifier import Classifier, load_classifier
from .explain import enlarged, explain
from .imagenet import CROP_SIZE, RESIZE_SIZE, WEIGHT_FILES
from .preprocess import FASHION_SIZE
from .presets import PRESET_INFO

DEFAULT_MODEL = "fashion"  # shipped with the project: works offline
MODELS = {name: PRESET_INFO[name].title for name in (DEFAULT_MODEL, *WEIGHT_FILES)}


class ClassifyService:
    """One classifier, loaded and warmed up once, shared by all requests through a batcher."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier
        self.batcher = MicroBatcher(classifier.predict_batch)

    @classmethod
    def load(cls, name: str = "fashion", weights_dir: str | Path | None = None,
             isolated: bool = False) -> tuple[ClassifyService | None, str]:
        """(service, "") or (None, the one-sentence reason it is unavailable); `isolated` as
        in `load_classifier`."""
        try:
            return cls(load_classifier(name, weights_dir, isolated)), ""
        except (ValueError, OSError) as error:
            if name in WEIGHT_FILES:  # Keras' weights: the error already says what is missing
                return None, str(error)
            return None, (f"The {name} model is unavailable ({error}). Train it with "
                          f"`python -m densenet_demo train`, which writes weights/{name}.*")

    def classify(self, image: str | None, top_k: float) -> tuple[dict, Image.Image, str]:
        """(gr.Label value, the model input (enlarged if small), latency line) for one upload."""
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
        except ValueError as error:  # open_image's sentence: unreadable, too large, damaged
            raise gr.Error(str(error), print_exception=False) from None
        prepared = time.perf_counter()
        probabilities = self.batcher.submit(seen)
        result = self.classifier.top(probabilities, top_k)
        finished = time.perf_counter()
        preview = enlarged(seen)
        timing = (f"Predicted in {(finished - started) * 1e3:.1f} ms on the server "
                  f"(reading and preparing the image {(prepared - started) * 1e3:.1f} ms, "
                  f"model {(finished - prepared) * 1e3:.1f} ms).")
        return {label: probability for label, probability in result}, preview, timing


class ClassifyModels:
    """The Classify tab's models by name, each loaded on first use, one load at a time, then
    shared. A model that could not be loaded is tried again on the next request."""

    def __init__(self, weights_dir: str | Path | None = None) -> None:
        self.weights_dir = weights_dir
        self._services: dict[str, ClassifyService] = {}
        self._loading = threading.Lock()

    def load(self, name: str, isolated: bool = True) -> tuple[ClassifyService | None, str]:
        """(service, "") or (None, the one-sentence reason it is unavailable). `isolated`:
        convert in a child process, so that requests meanwhile are served without stalls;
        only a load before the app serves (the default model's) can skip it."""
        if name not in self._services:  # a loaded model never waits for another's load
            with self._loading:
                if name not in self._services:
                    service, unavailable = ClassifyService.load(name, self.weights_dir,
                                                                isolated)
                    if service is None:
                        return None, unavailable
                    self._services[name] = service
        return self._services[name], ""

    def service(self, model: str | None) -> ClassifyService:
        """The loaded model `model`; `gr.Error` with the reason when it is unknown or
        unavailable."""
        if model not in MODELS:
            raise gr.Error(f"model={model!r} is invalid: allowed {', '.join(MODELS)}",
                           print_exception=False)
        service, unavailable = self.load(model)
        if service is None:
            raise gr.Error(unavailable, print_exception=False)
        return service

    def classify(self, image: str | None, top_k: float,
                 model: str = DEFAULT_MODEL) -> tuple[dict, Image.Image, str]:
        """`ClassifyService.classify` with the chosen model (callers that send none get the
        Fashion-MNIST one, as before the choice existed)."""
        return self.service(model).classify(image, top_k)

    def classify_on_page(self, image: str | None, top_k: float, model: str) -> tuple:
        """As `classify`, but a cleared picture clears the results instead of raising."""
        if image is None:
            return None, None, ""
        return self.classify(image, top_k, model)

    def explain(self, image: str | None, model: str, opacity: float) -> tuple:
        """Grad-CAM of the chosen model's top class: on the upload, on the model's input."""
        if image is None:
            raise gr.Error("No image: upload a picture first, then ask why.",
                           print_exception=False)
        classifier = self.service(model).classifier
        try:
            return explain(classifier, image, opacity)
        except ValueError as error:  # unreadable image or opacity: one sentence
            raise gr.Error(str(error), print_exception=False) from None

    def describe(self, model: str) -> str:
        """What the chosen model is and what a picture becomes for it (loading the model)."""
        return describe(self.service(model).classifier.card)


def describe(card: dict) -> str:
    """The Classify tab's paragraph on a model, from its card."""
    if card["preprocessing"].get("kind") == "imagenet":
        return (f"**{card['title']}** with Keras' published ImageNet weights "
                f"({card['params']:,} parameters). {card['about']} It names one of the 1,000 "
                f"ImageNet classes. Your picture is resized so that its shorter side is "
                f"{RESIZE_SIZE} px, its centre {CROP_SIZE}×{CROP_SIZE} is cut out, and each "
                f"colour channel is normalised with ImageNet's mean and deviation.")
    return (f"Upload a photo of a clothing item, shoe or bag. The model is this project's "
            f"DenseNet ({card['params']:,} parameters) trained on Fashion-MNIST: "
            f"{card['test_accuracy']:.2%} accuracy on its {card['test_images']:,} test images. "
            f"Your picture is turned into what it was trained on: grayscale, light on black, "
            f"cropped and centred, {FASHION_SIZE}×{FASHION_SIZE}.")


def example_images(folder: Path) -> list[str]:
    """The gallery: real Fashion-MNIST test images shipped as PNG."""
    return sorted(str(path) for path in folder.glob("*.png"))
