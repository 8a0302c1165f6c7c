"""The Model tab: what the served model learned, from its card (test accuracy beside published
results, per class, confusion matrix, training curves), its misclassified test images looked up
by (true class, predicted class) (`/misclassified`), and its feature reuse."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from ..files import sha256_of
from ..inference.card import ModelCard
from ..inference.classifier import WEIGHTS_DIR, Classifier
from ..inference.feature_reuse import ReuseGrid, feature_reuse, reuse_from_card
from ..inference.mistakes import Mistakes, load_mistakes
from ..inference.model_inputs import enlarged
from ..inference.service import ClassifyService
from .components import Dropdown, ui_error
from .model_charts import (
    FEATURE_REUSE_HOW_TO_READ,
    accuracy_figure,
    confusion_figure,
    feature_reuse_figure,
    headline_markdown,
    per_class_figure,
    training_curves_figure,
)
from .registration import wired

GALLERY_LIMIT = 100  # images per answer: each is a file the server writes and the page loads
GALLERY_SIDE = 112  # a 28x28 test image is shown 4x, pixels kept sharp


def handlers(default: ClassifyService | None) -> ModelTab | None:
    """The tab's handlers over the loaded default model (None without one)."""
    if default is None:
        return None
    return ModelTab(default.classifier, default.classifier.weights_path.parent)


def render(tab: ModelTab | None, unavailable: str) -> None:
    """The tab's components and their page events (call inside `gr.Tab`) for the served
    model's `tab` (`handlers`), or the sentence saying why it is `unavailable`."""
    if tab is None:
        gr.Markdown(unavailable)
        return
    gr.Markdown(headline_markdown(tab.card))
    with gr.Row():
        gr.Plot(accuracy_figure(tab.card), label="Beside published results")
        gr.Plot(per_class_figure(tab.card), label="Per class")
    gr.Plot(confusion_figure(tab.card), label="Confusion matrix")
    if tab.mistakes is None:
        gr.Markdown(tab.mistakes_unavailable)
    else:
        worst_pair = tab.worst_pair()
        first = tab.misclassified(*worst_pair)
        gr.Markdown(
            "**See the mistakes of one cell**: pick its true class (row) and predicted "
            "class (column)."
        )
        with gr.Row():
            true_class = tab.class_menu("true")
            predicted_class = tab.class_menu("predicted")
        count = gr.Markdown(first["how_many"], label="How many")
        gallery = gr.Gallery(
            first["images"],
            label="Misclassified test images (index in the test set)",
            columns=8,
            height=420,
            format="png",
            interactive=False,
        )
        shown = {"images": gallery, "how_many": count}
        gr.on(
            [true_class.input, predicted_class.input],
            **wired(tab.misclassified, shown),
            inputs=[true_class, predicted_class],
            api_visibility="private",
        )
    gr.Plot(training_curves_figure(tab.card), label="Training curves")
    gr.Markdown(FEATURE_REUSE_HOW_TO_READ)
    gr.Plot(
        feature_reuse_figure(tab.reuse),
        label="Feature reuse in the trained model (Huang et al., Figure 5)",
    )


class ModelTab:
    """One trained model and its card, with the misclassified test images shipped beside it."""

    def __init__(self, classifier: Classifier, weights_dir: str | Path | None = None) -> None:
        """`weights_dir`: where the card and its files are (default: the shipped weights/)."""
        self.card = card = classifier.card
        self.class_names = card.class_names
        # Measured from the weights when the model was converted; older cards lack it (and
        # then the Keras model is built to measure it).
        self.reuse: list[ReuseGrid] = (
            reuse_from_card(card.feature_reuse, card.config)
            if card.feature_reuse is not None
            else feature_reuse(classifier.model, card.config)
        )
        directory = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
        self.mistakes, self.mistakes_unavailable = _load_mistakes(card, directory)

    def worst_pair(self) -> tuple[str, str]:
        """(true, predicted) class names of the card's most frequent mistake."""
        counts = np.array(self.card.confusion_matrix)
        np.fill_diagonal(counts, -1)
        true, predicted = np.unravel_index(counts.argmax(), counts.shape)
        return self.class_names[true], self.class_names[predicted]

    def class_menu(self, role: str) -> Dropdown:
        """The menu of the true or predicted class (`role`), set to the most frequent
        mistake's."""
        roles = ("true", "predicted")
        return Dropdown(
            list(self.class_names),
            value=self.worst_pair()[roles.index(role)],
            label=f"{role.capitalize()} class",
        )

    def misclassified(self, true_class: str, predicted_class: str) -> dict:
        """The gallery of (image, "test #index") and one sentence (how_many) for the test
        images labelled `true_class` that the model classified as `predicted_class`."""
        if self.mistakes is None:
            raise gr.Error(self.mistakes_unavailable, print_exception=False)
        try:
            true = self._class_index("true class", true_class)
            predicted = self._class_index("predicted class", predicted_class)
        except ValueError as error:
            raise ui_error(error) from None
        if true == predicted:
            return {
                "images": [],
                "how_many": f"True and predicted class are both {true_class}: those images "
                "were classified correctly. Pick two different classes.",
            }
        cell = self.mistakes.pair(true, predicted)
        gallery = [
            (enlarged(image, GALLERY_SIDE), f"test #{index}")
            for image, index in zip(cell.images[:GALLERY_LIMIT], cell.indices[:GALLERY_LIMIT])
        ]
        count = len(cell.indices)
        sentence = (
            f"{count} {true_class} test image{'s' * (count != 1)} "
            f"{'was' if count == 1 else 'were'} classified as {predicted_class}"
        )
        if count > GALLERY_LIMIT:
            sentence += f"; the first {GALLERY_LIMIT} are shown"
        return {"images": gallery, "how_many": sentence + "."}

    def _class_index(self, field: str, value) -> int:
        if not isinstance(value, str) or value not in self.class_names:
            raise ValueError(
                f"{field} {value!r} is not one of the model's classes: "
                f"{', '.join(self.class_names)}"
            )
        return self.class_names.index(value)


def _load_mistakes(card: ModelCard, weights_dir: Path) -> tuple[Mistakes | None, str]:
    """(mistakes, "") or (None, the one sentence saying why they cannot be shown)."""
    file_name = card.mistakes_file or f"{card.name}.mistakes.npz"
    path = weights_dir / file_name
    if card.mistakes_file is None or not path.is_file():
        return None, (
            f"The misclassified test images are not shipped with this model "
            f"({file_name} is missing): `python -m densenet_demo evaluate "
            f"{card.name} --write-mistakes` writes them."
        )
    if sha256_of(path) != card.mistakes_sha256:
        return None, (
            f"The misclassified test images are not shown: {file_name} does not "
            f"match the model card's SHA-256."
        )
    try:
        return load_mistakes(path), ""
    except ValueError:
        return None, (
            f"The misclassified test images are not shown: {file_name} is not a mistakes file."
        )
