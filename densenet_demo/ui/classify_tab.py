"""The Classify tab: an upload and a model choice in; the top-k classes, what the model saw,
the server time and a Grad-CAM explanation out. Its handlers are also the API's `/predict`,
`/choose_model` and `/explain` (declared in `endpoints`, with the inputs of `INPUTS`)."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import NamedTuple

import gradio as gr

from ..files import shipped
from ..inference.gradcam import Explanation, check_opacity, explain
from ..inference.imagenet import FOLDER_VARIABLE
from ..inference.model_inputs import enlarged
from ..inference.service import (
    DEFAULT_MODEL,
    MODELS,
    ClassifyService,
    ModelRegistry,
    Prediction,
)
from .about_model import describe
from .components import Image as ImageInput
from .components import ModelDropdown, Slider, ui_error
from .hosting import CLASSIFY_CONCURRENCY, EXPLAIN_CONCURRENCY
from .registration import wired

EXAMPLES = shipped("examples") / "fashion"
CLEARED = {"top_classes": None, "model_input": None, "about": ""}  # no picture: no result
NO_EXPLANATION = {"on_picture": None, "on_model_input": None, "caption": "", "explanation": None}


# The tab's inputs, built here for the page and for the API's parameters alike.
INPUTS = {
    "model": functools.partial(
        ModelDropdown,
        [(title, name) for name, title in MODELS.items()],
        value=DEFAULT_MODEL,
        label="Model",
        info="ImageNet models load on first use (about a minute); their "
        f"weights are downloaded once or read from {FOLDER_VARIABLE}",
    ),
    # image_mode=None: handed on as uploaded; Gradio's default RGB conversion would drop
    # transparency and clip 16-bit greyscale.
    "picture": functools.partial(
        ImageInput,
        type="filepath",
        image_mode=None,
        label="Your picture",
        height=240,
        sources=["upload", "webcam", "clipboard"],
    ),
    "top_k": functools.partial(Slider, 1, 10, value=5, step=1, label="Classes to show (k)"),
    "opacity": functools.partial(Slider, 0.0, 1.0, value=0.5, step=0.05, label="Heat map opacity"),
}


class ClassifyView(NamedTuple):
    """What another tab sets here: the model menu and the paragraph about the model."""

    model: gr.Dropdown
    about_model: gr.Markdown


def render(
    handlers: ClassifyHandlers, default: ClassifyService | None, unavailable: str
) -> ClassifyView:
    """The tab's components and their page events over `handlers` (call inside `gr.Tab`);
    `default` is the loaded default model, or None with the sentence saying why it is
    `unavailable`."""
    about_model = gr.Markdown(
        describe(default.classifier.card) if default else unavailable, label="About the model"
    )
    with gr.Row():
        with gr.Column():
            model = INPUTS["model"]()
            upload = INPUTS["picture"]()
            top_k = INPUTS["top_k"]()
            classify_button = gr.Button("Classify", variant="primary")
        with gr.Column():
            top_classes = gr.Label(num_top_classes=10, label="Top-k classes")
            # Right under the labels: a picture unlike the training data is said here.
            timing = gr.Markdown(label="About this prediction")
            model_view = gr.Image(
                label="What the model sees (enlarged if small)", interactive=False, height=240
            )
    with gr.Accordion("Why this class? Grad-CAM", open=False):
        opacity = INPUTS["opacity"]()
        explain_button = gr.Button("Show what drove the top class")
        explain_caption = gr.Markdown(label="Explained class")
        with gr.Row():
            heat_on_upload = gr.Image(label="On your picture", interactive=False, height=280)
            heat_on_input = gr.Image(label="On what the model sees", interactive=False, height=280)
    gr.Examples(
        example_images(EXAMPLES),
        inputs=upload,
        label="Real Fashion-MNIST test images: click one",
        examples_per_page=20,
    )

    inputs = [upload, top_k, model]
    results = {"top_classes": top_classes, "model_input": model_view, "about": timing}
    explanation = gr.State()  # the last Grad-CAM, redrawn when the opacity moves
    explained = {
        "on_picture": heat_on_upload,
        "on_model_input": heat_on_input,
        "caption": explain_caption,
        "explanation": explanation,
    }
    classify_button.click(
        **wired(handlers.classify_for_page, results),
        inputs=inputs,
        api_visibility="private",
        **CLASSIFY_CONCURRENCY,
    )
    # A new picture or model: the explanation of the old one goes at once.
    gr.on(
        [upload.change, model.input],
        **wired(lambda: NO_EXPLANATION, explained),
        queue=False,
        api_visibility="private",
    )
    gr.on(
        [upload.change, top_k.release],
        **wired(handlers.classify_on_page, results),
        inputs=inputs,
        api_visibility="private",
        **CLASSIFY_CONCURRENCY,
    )
    # The page's model choice: a model that cannot be loaded is explained in the panel above
    # and the menu goes back to the default; the old result is cleared either way.
    chosen = {"about_model": about_model, "model": model, **results}
    model.input(
        **wired(handlers.choose_on_page, chosen),
        inputs=model,
        api_visibility="private",
        **CLASSIFY_CONCURRENCY,
    ).success(
        **wired(handlers.classify_on_page, results),
        inputs=inputs,
        api_visibility="private",
        **CLASSIFY_CONCURRENCY,
    )
    explain_button.click(
        **wired(handlers.explain, explained),
        inputs=[upload, model, opacity],
        api_visibility="private",
        **EXPLAIN_CONCURRENCY,
    )
    # Opacity is only blending: the heat map already computed is drawn again, no gradients.
    drawn = {"on_picture": heat_on_upload, "on_model_input": heat_on_input}
    opacity.input(
        **wired(handlers.recolour, drawn),
        inputs=[explanation, opacity],
        queue=False,
        api_visibility="private",
    )
    return ClassifyView(model, about_model)


class ClassifyHandlers:
    """The tab's events over a `ModelRegistry`: its `ValueError`s become `gr.Error`s."""

    def __init__(self, models: ModelRegistry) -> None:
        self.models = models

    def _service(self, model) -> ClassifyService:
        try:
            return self.models.service(model)
        except ValueError as error:
            raise ui_error(error) from None

    def classify(self, image: str | None, top_k: float, model: str = DEFAULT_MODEL) -> dict:
        """/predict: the top classes (gr.Label's value), the model input (enlarged if small)
        and, in plain text (one line, no Markdown), the latency line after a sentence saying
        so when the picture does not look like what the model knows, by name (callers that
        send no model get the shipped Fashion-MNIST one).

        Args:
            image: the picture: a PNG, JPEG, WebP, GIF or BMP file, or a data: URL.
            top_k: how many of the most probable classes to return, from 1 to 10.
            model: fashion (this project's Fashion-MNIST DenseNet), an ImageNet DenseNet, or
                the id of a run the Train tab saved (see /runs).
        """
        return self._classified(image, top_k, model, for_page=False)

    def classify_for_page(
        self, image: str | None, top_k: float, model: str = DEFAULT_MODEL
    ) -> dict:
        """As `classify`, for the page: its text in Markdown, the sentence about a picture
        unlike the training data in bold and naming the page's Model menu."""
        return self._classified(image, top_k, model, for_page=True)

    def _classified(self, image: str | None, top_k: float, model: str, for_page: bool) -> dict:
        """The classes, the model input and the text about them: for an API caller plain
        text, for the page Markdown (the out-of-domain sentence in bold)."""
        prediction, service = self._predicted(image, top_k, model)
        about = _timing(prediction)
        if prediction.out_of_domain:
            note = service.classifier.card.domain_check.sentence(
                "an ImageNet model (the Model menu) knows 1,000 kinds of things"
                if for_page
                else "model='densenet121' (an ImageNet model) knows 1,000 kinds of things"
            )
            about = f"**{note}**\n\n{about}" if for_page else f"{note} {about}"
        return _result(prediction, about)

    def _predicted(self, image: str | None, top_k: float, model: str):
        """(the `Prediction`, the service that made it); `gr.Error` in one sentence for a
        missing or bad picture, a bad `top_k` or an unavailable model."""
        if image is None:
            raise gr.Error(
                "No image: upload a picture, take one with the webcam or paste one.",
                print_exception=False,
            )
        # The slider sends 3.0; anything else is left for the classifier to refuse by name.
        with contextlib.suppress(ValueError, TypeError, OverflowError):
            top_k = int(top_k) if float(top_k).is_integer() else top_k
        service = self._service(model)
        try:
            return service.classify(image, top_k), service
        except ValueError as error:  # top_k, or the image: unreadable, too large, damaged
            raise ui_error(error) from None

    def classify_on_page(self, image: str | None, top_k: float, model: str) -> dict:
        """As `classify_for_page`, but a cleared picture clears the results instead of raising."""
        if image is None:
            return CLEARED
        return self.classify_for_page(image, top_k, model)

    def explain(self, image: str | None, model: str, opacity: float) -> dict:
        """Grad-CAM of the chosen model's top class, by name: on the upload, on the model's
        input, the caption, and the explanation kept for redrawing at another opacity.

        Args:
            image: the picture: a PNG, JPEG, WebP, GIF or BMP file, or a data: URL.
            model: fashion (this project's Fashion-MNIST DenseNet), an ImageNet DenseNet, or
                the id of a run the Train tab saved (see /runs).
            opacity: of the heat map drawn over the pictures, from 0 to 1.
        """
        if image is None:
            raise gr.Error("No image: upload a picture first, then ask why.", print_exception=False)
        try:
            check_opacity(opacity)  # before any model work
        except ValueError as error:
            raise ui_error(error) from None
        classifier = self._service(model).classifier
        try:
            explanation = explain(classifier, image)
        except ValueError as error:  # an unreadable image: one sentence
            raise ui_error(error) from None
        return {
            **self._overlays(explanation, opacity),
            "caption": explanation.caption,
            "explanation": explanation,
        }

    def recolour(self, explanation: Explanation | None, opacity: float) -> dict:
        """The kept explanation drawn at a new opacity (nothing to draw: left as it is)."""
        if explanation is None:
            return {}
        try:
            return self._overlays(explanation, opacity)
        except ValueError as error:
            raise ui_error(error) from None

    @staticmethod
    def _overlays(explanation: Explanation, opacity: float) -> dict:
        on_picture, on_model_input = explanation.overlays(opacity)
        return {"on_picture": on_picture, "on_model_input": on_model_input}

    def describe(self, model: str) -> str:
        """What the chosen model is and what a picture becomes for it (loading the model)."""
        return describe(self._service(model).classifier.card)

    def choose_on_page(self, model: str) -> dict:
        """The page's model choice: (about the model, the menu, cleared results). A model that
        cannot be loaded is explained in one sentence and the menu goes back to the default
        model; it is not tried again until its weights folder changes or a while has passed
        (`ModelRegistry`)."""
        try:
            about = describe(self.models.service(model).classifier.card)
        except ValueError as error:
            note = f"**Not available.** {error} The menu is back on {MODELS[DEFAULT_MODEL]}."
            refused = gr.update(value=note, elem_classes=["refusal"])
            return {"about_model": refused, "model": DEFAULT_MODEL, **CLEARED}
        return {"about_model": gr.update(value=about, elem_classes=[]), **CLEARED}


def _timing(prediction: Prediction) -> str:
    prepare_ms, model_ms = prediction.prepare_seconds * 1e3, prediction.model_seconds * 1e3
    return (
        f"Predicted in {prepare_ms + model_ms:.1f} ms on the server (reading and "
        f"preparing the image {prepare_ms:.1f} ms, model {model_ms:.1f} ms)."
    )


def _result(prediction: Prediction, about: str) -> dict:
    return {
        "top_classes": dict(prediction.top),
        "model_input": enlarged(prediction.seen),
        "about": about,
    }


def example_images(folder: Path) -> list[str]:
    """The gallery: real Fashion-MNIST test images shipped as PNG."""
    return sorted(str(path) for path in folder.glob("*.png"))
