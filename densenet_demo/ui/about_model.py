"""What the page says about a model, from its card: the Classify tab shows it, and the Train
tab when it hands a run to Classify."""

from __future__ import annotations

from ..architecture.report import count
from ..inference.card import ModelCard
from ..inference.model_inputs import CROP_SIZE, FASHION_SIZE, RESIZE_SIZE
from ..inference.runs import is_run_id


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
