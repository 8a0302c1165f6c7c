"""The Classify tab: an upload and a model choice in; the top-k classes, what the model saw,
the server time and a Grad-CAM explanation out (`/predict`, `/choose_model`, `/explain`)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import NamedTuple

import gradio as gr
from PIL import Image

from ..architecture.report import count
from ..files import shipped
from ..inference.card import ModelCard
from ..inference.gradcam import Explanation, check_opacity, explain
from ..inference.imagenet import FOLDER_VARIABLE
from ..inference.model_inputs import CROP_SIZE, FASHION_SIZE, RESIZE_SIZE, enlarged
from ..inference.runs import is_run_id
from ..inference.service import DEFAULT_MODEL, MODELS, ClassifyService, ModelRegistry
from .components import Image as ImageInput
from .components import ModelDropdown, Slider, ui_error
from .hosting import CLASSIFY_CONCURRENCY, EXPLAIN_CONCURRENCY

EXAMPLES = shipped("examples") / "fashion"


class ClassifyView(NamedTuple):
    """What another tab sets here: the model menu and the paragraph about the model."""

    model: gr.Dropdown
    about_model: gr.Markdown


def render(
    models: ModelRegistry, default: ClassifyService | None, unavailable: str
) -> ClassifyView:
    """The tab's components and their events (call inside `gr.Tab`); `default` is the loaded
    default model, or None with the sentence saying why it is `unavailable`."""
    handlers = ClassifyHandlers(models)
    about_model = gr.Markdown(
        describe(default.classifier.card) if default else unavailable, label="About the model"
    )
    with gr.Row():
        with gr.Column():
            model = ModelDropdown(
                [(title, name) for name, title in MODELS.items()],
                value=DEFAULT_MODEL,
                label="Model",
                info="ImageNet models load on first use (about a minute); their "
                f"weights are downloaded once or read from {FOLDER_VARIABLE}",
            )
            # image_mode=None: handed on as uploaded; Gradio's default RGB conversion would
            # drop transparency and clip 16-bit greyscale.
            upload = ImageInput(
                type="filepath",
                image_mode=None,
                label="Your picture",
                height=240,
                sources=["upload", "webcam", "clipboard"],
            )
            top_k = Slider(1, 10, value=5, step=1, label="Classes to show (k)")
            classify_button = gr.Button("Classify", variant="primary")
        with gr.Column():
            top_classes = gr.Label(num_top_classes=10, label="Top-k classes")
            # Right under the labels: a picture unlike the training data is said here.
            timing = gr.Markdown(label="About this prediction")
            model_view = gr.Image(
                label="What the model sees (enlarged if small)", interactive=False, height=240
            )
    with gr.Accordion("Why this class? Grad-CAM", open=False):
        opacity = Slider(0.0, 1.0, value=0.5, step=0.05, label="Heat map opacity")
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

    inputs, outputs = [upload, top_k, model], [top_classes, model_view, timing]
    explanation = gr.State()  # the last Grad-CAM, redrawn when the opacity moves
    explained = [heat_on_upload, heat_on_input, explain_caption, explanation]
    classify_button.click(
        handlers.classify,
        inputs=inputs,
        outputs=outputs,
        api_name="predict",
        api_description="Classify one picture (a file, or a base64 data: URL) with a model: "
        "'fashion' (this project's Fashion-MNIST DenseNet, the default) or 'densenet121', "
        "'densenet169', 'densenet201' (Keras' ImageNet weights, loaded on first use), or the "
        "id of a run the Train tab saved (/runs). Returns "
        "the top k classes with their probabilities, the picture the model saw, and a line "
        "with the server time, after a sentence saying so when the picture does not look like "
        "what the model knows.",
        **CLASSIFY_CONCURRENCY,
    )
    # A new picture or model: the explanation of the old one goes at once.
    gr.on(
        [upload.change, model.input],
        lambda: (None, None, "", None),
        outputs=explained,
        queue=False,
        api_visibility="private",
    )
    gr.on(
        [upload.change, top_k.release],
        handlers.classify_on_page,
        inputs=inputs,
        outputs=outputs,
        api_visibility="private",
        **CLASSIFY_CONCURRENCY,
    )
    # The page's model choice: a model that cannot be loaded is explained in the panel above
    # and the menu goes back to the default; the old result is cleared either way.
    model.input(
        handlers.choose_on_page,
        inputs=model,
        outputs=[about_model, model, *outputs],
        api_visibility="private",
        **CLASSIFY_CONCURRENCY,
    ).success(
        handlers.classify_on_page,
        inputs=inputs,
        outputs=outputs,
        api_visibility="private",
        **CLASSIFY_CONCURRENCY,
    )
    gr.Button(visible=False).click(  # API callers: an unavailable model is an error
        handlers.describe,
        inputs=model,
        outputs=about_model,
        api_name="choose_model",
        api_description="Load a model (if not loaded yet) and return what it is and what a "
        "picture becomes for it, in one paragraph; a model that cannot be loaded is refused "
        "in one sentence saying why.",
        **CLASSIFY_CONCURRENCY,
    )
    explain_button.click(
        handlers.explain,
        inputs=[upload, model, opacity],
        outputs=explained,
        api_name="explain",
        api_description="Grad-CAM for the model's top class: the picture and the model's "
        "input with a heat map of the pixels that raised that class's score (opacity 0 to 1), "
        "and a caption naming the class.",
        **EXPLAIN_CONCURRENCY,
    )
    # Opacity is only blending: the heat map already computed is drawn again, no gradients.
    opacity.input(
        handlers.recolour,
        inputs=[explanation, opacity],
        outputs=[heat_on_upload, heat_on_input],
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

    def classify(
        self, image: str | None, top_k: float, model: str = DEFAULT_MODEL
    ) -> tuple[dict, Image.Image, str]:
        """(gr.Label value, the model input (enlarged if small), latency line) for one upload
        and the chosen model (callers that send no model get the shipped Fashion-MNIST one).

        Args:
            image: the picture: a PNG, JPEG, WebP, GIF or BMP file, or a data: URL.
            top_k: how many of the most probable classes to return, from 1 to 10.
            model: fashion (this project's Fashion-MNIST DenseNet), an ImageNet DenseNet, or
                the id of a run the Train tab saved (see /runs).
        """
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
            prediction = service.classify(image, top_k)
        except ValueError as error:  # top_k, or the image: unreadable, too large, damaged
            raise ui_error(error) from None
        prepare_ms, model_ms = prediction.prepare_seconds * 1e3, prediction.model_seconds * 1e3
        about = (
            f"Predicted in {prepare_ms + model_ms:.1f} ms on the server (reading and "
            f"preparing the image {prepare_ms:.1f} ms, model {model_ms:.1f} ms)."
        )
        if prediction.out_of_domain:
            note = service.classifier.card.domain_check.sentence(
                "an ImageNet model (the Model menu) knows 1,000 kinds of things"
            )
            about = f"**{note}**\n\n{about}"
        return dict(prediction.top), enlarged(prediction.seen), about

    def classify_on_page(self, image: str | None, top_k: float, model: str) -> tuple:
        """As `classify`, but a cleared picture clears the results instead of raising."""
        if image is None:
            return None, None, ""
        return self.classify(image, top_k, model)

    def explain(self, image: str | None, model: str, opacity: float) -> tuple:
        """Grad-CAM of the chosen model's top class: (on the upload, on the model's input,
        caption, the explanation kept for redrawing at another opacity).

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
        return *explanation.overlays(opacity), explanation.caption, explanation

    def recolour(self, explanation: Explanation | None, opacity: float) -> tuple:
        """The kept explanation drawn at a new opacity (nothing to draw: left as it is)."""
        if explanation is None:
            return gr.skip(), gr.skip()
        try:
            return explanation.overlays(opacity)
        except ValueError as error:
            raise ui_error(error) from None

    def describe(self, model: str) -> str:
        """What the chosen model is and what a picture becomes for it (loading the model)."""
        return describe(self._service(model).classifier.card)

    def choose_on_page(self, model: str) -> tuple:
        """The page's model choice: (about the model, the menu, cleared results). A model that
        cannot be loaded is explained in one sentence and the menu goes back to the default
        model; it is not tried again until its weights folder changes or a while has passed
        (`ModelRegistry`)."""
        cleared = (None, None, "")
        try:
            about = describe(self.models.service(model).classifier.card)
        except ValueError as error:
            note = f"**Not available.** {error} The menu is back on {MODELS[DEFAULT_MODEL]}."
            return gr.update(value=note, elem_classes=["refusal"]), DEFAULT_MODEL, *cleared
        return gr.update(value=about, elem_classes=[]), gr.skip(), *cleared


def describe(card: ModelCard) -> str:
    """The Classify tab's paragraph on a model, from its card."""
    if card.preprocessing.kind == "imagenet":
        return (
            f"**{card.title}** with Keras' published ImageNet weights "
            f"({card.params:,} parameters). {card.about} It names one of the "
            f"{len(card.class_names):,} ImageNet classes. Your picture is resized so that "
            f"its shorter side is {RESIZE_SIZE} px, its centre {CROP_SIZE}×{CROP_SIZE} is "
            f"cut out, and each colour channel is normalised with ImageNet's mean and "
            f"deviation."
        )
    if is_run_id(card.name):
        return (
            f"Upload a photo of a clothing item, shoe or bag. The model is run "
            f"**{card.name}** of the Train tab ({card.params:,} parameters, "
            f"{count(card.epochs, 'epoch')}): {card.test_accuracy:.2%} accuracy on the "
            f"{card.test_images:,} "
            f"Fashion-MNIST test images. Your picture is turned into what it was trained on: "
            f"grayscale, light on black, cropped and centred, {FASHION_SIZE}×{FASHION_SIZE}."
            f"{_mirrored(card)}"
        )
    return (
        f"Upload a photo of a clothing item, shoe or bag. The model is this project's "
        f"DenseNet ({card.params:,} parameters) trained on Fashion-MNIST: "
        f"{card.test_accuracy:.2%} accuracy on its {card.test_images:,} test images. "
        f"Your picture is turned into what it was trained on: grayscale, light on black, "
        f"cropped and centred, {FASHION_SIZE}×{FASHION_SIZE}.{_mirrored(card)}"
    )


def _mirrored(card: ModelCard) -> str:
    if not card.mirror_averaged:
        return ""
    return " It is classified as it is and mirrored left to right, the two averaged."


def example_images(folder: Path) -> list[str]:
    """The gallery: real Fashion-MNIST test images shipped as PNG."""
    return sorted(str(path) for path in folder.glob("*.png"))
