"""The Model tab's figures, built from real model cards, and the misclassified test images
shipped beside the weights."""

import dataclasses
import json
import shutil

import numpy as np
import pytest

from densenet_demo.cli import main
from densenet_demo.files import sha256_of
from densenet_demo.inference.card import MirrorAverage, ModelCard
from densenet_demo.inference.classifier import WEIGHTS_DIR
from densenet_demo.inference.mistakes import confusion_matrix, load_mistakes
from densenet_demo.training.data import load_fashion_mnist
from densenet_demo.ui.about_model import describe
from densenet_demo.ui.model_charts import (
    ANCHORS,
    accuracy_figure,
    confusion_figure,
    headline_markdown,
    per_class_figure,
    training_curves_figure,
)

SHIPPED_CARD = WEIGHTS_DIR / "fashion.json"
pytestmark = pytest.mark.slow  # the tiny model's card comes from a training run


@pytest.fixture(scope="module", params=["tiny", "shipped"])
def card(request):
    """The tiny model's card (written by export in conftest) and the shipped one once trained."""
    if request.param == "shipped":
        if not SHIPPED_CARD.is_file():
            pytest.skip("weights/fashion.json is not trained yet")
        return ModelCard.read(SHIPPED_CARD)
    return ModelCard.read(request.getfixturevalue("tiny_weights_dir") / "fashion.json")


@pytest.fixture(scope="module")
def test_set():
    return load_fashion_mnist()["test"]


def grid(trace) -> np.ndarray:
    return np.array(trace.z, dtype=float)  # gaps (None) become NaN


def by_class(trace) -> dict:
    """A heatmap's cells by (true class, predicted class): its y and x labels; gaps are 0."""
    return {
        (true, predicted): float(np.nan_to_num(count))
        for true, row in zip(trace.y, trace.z, strict=True)
        for predicted, count in zip(trace.x, row, strict=True)
    }


def test_confusion_matrix_counts_every_test_image_once(card):
    correct, wrong = (by_class(trace) for trace in confusion_figure(card).data)
    names = card.class_names
    assert {key: correct[key] + wrong[key] for key in correct} == {
        (true, predicted): card.confusion_matrix[names.index(true)][names.index(predicted)]
        for true in names
        for predicted in names
    }
    assert sum(correct.values()) + sum(wrong.values()) == card.test_images


def test_confusion_matrix_diagonal_is_the_cards_test_accuracy(card):
    correct, wrong = confusion_figure(card).data
    hits, misses = np.nansum(grid(correct)), np.nansum(grid(wrong))
    assert hits / (hits + misses) == pytest.approx(card.test_accuracy, abs=1e-12)
    assert np.isnan(np.diag(grid(wrong))).all()  # mistakes only off the diagonal


def test_accuracy_chart_puts_the_model_beside_the_published_anchors(card):
    [bars] = accuracy_figure(card).data
    assert list(bars.x) == [card.test_accuracy, 0.954, 0.967, 0.835]
    assert list(bars.y[1:]) == [anchor.name for anchor in ANCHORS]


def test_per_class_chart_shows_each_class_accuracy_from_the_card(card):
    [bars] = per_class_figure(card).data
    assert list(bars.x) == list(card.class_names)
    assert list(bars.y) == list(card.per_class_accuracy.values())


def test_training_curves_plot_loss_and_accuracy_of_every_epoch(card):
    traces = training_curves_figure(card).data
    assert [trace.name for trace in traces] == ["training", "validation"] * 2
    epochs = [row["epoch"] for row in card.history]
    for trace, key in zip(traces, ["loss", "val_loss", "accuracy", "val_accuracy"]):
        assert list(trace.x) == epochs
        assert list(trace.y) == [row[key] for row in card.history]


def test_model_and_classify_tabs_say_whether_predictions_average_the_mirror_image(card):
    text = headline_markdown(card)
    assert f"**{card.test_accuracy:.2%} test accuracy**" in text
    assert ("averaged with its mirror image's" in text) == card.mirror_averaged
    mirrored = dataclasses.replace(
        card,
        final_val_accuracy=0.4321,
        mirror_average=MirrorAverage(True, 5000, accuracy_alone=0.123, accuracy_averaged=0.91),
    )
    text = headline_markdown(mirrored)
    assert "which raised validation accuracy to 91.00%: the app predicts that way." in text
    assert "12.30%" not in text  # the accuracy without the mirror: final_val_accuracy, once
    assert text.count("43.21%") == 1
    assert ("mirrored left to right" in describe(card)) == card.mirror_averaged
    assert "mirrored left to right, the two averaged" in describe(mirrored)


def test_export_ships_exactly_the_misclassified_test_images(tiny_weights_dir, test_set):
    card = ModelCard.read(tiny_weights_dir / "fashion.json")
    path = tiny_weights_dir / card.mistakes_file
    assert sha256_of(path) == card.mistakes_sha256
    mistakes = load_mistakes(path)
    expected = np.array(card.confusion_matrix)
    np.fill_diagonal(expected, 0)
    np.testing.assert_array_equal(confusion_matrix(mistakes.true, mistakes.predicted, 10), expected)
    np.testing.assert_array_equal(mistakes.images, test_set.images[mistakes.indices])
    np.testing.assert_array_equal(mistakes.true, test_set.labels[mistakes.indices])
    assert (mistakes.predicted != mistakes.true).all()


def without_mistakes(tiny_weights_dir, tmp_path):
    """A copy of the tiny model as the old exporter wrote it: no mistakes file in the card."""
    folder = tmp_path / "weights"
    shutil.copytree(tiny_weights_dir, folder)
    card = json.loads((folder / "fashion.json").read_text())
    (folder / card.pop("mistakes_file")).unlink()
    del card["mistakes_sha256"]
    (folder / "fashion.json").write_text(json.dumps(card))
    return folder


def test_evaluate_write_mistakes_restores_the_file_and_names_it_in_the_card(
    tiny_weights_dir, tmp_path
):
    folder = without_mistakes(tiny_weights_dir, tmp_path)
    assert main(["evaluate", "fashion", "--weights-dir", str(folder), "--write-mistakes"]) == 0
    original = json.loads((tiny_weights_dir / "fashion.json").read_text())
    rewritten = json.loads((folder / "fashion.json").read_text())
    assert rewritten == original
    for got, expected in zip(
        load_mistakes(folder / rewritten["mistakes_file"]),
        load_mistakes(tiny_weights_dir / original["mistakes_file"]),
    ):
        np.testing.assert_array_equal(got, expected)


def test_write_mistakes_refuses_a_card_whose_confusion_matrix_differs(
    tiny_weights_dir, tmp_path, capsys
):
    folder = without_mistakes(tiny_weights_dir, tmp_path)
    card = json.loads((folder / "fashion.json").read_text())
    card["confusion_matrix"][0][1] += 1  # same accuracy, different mistakes
    card["confusion_matrix"][0][2] -= 1
    (folder / "fashion.json").write_text(json.dumps(card))
    assert main(["evaluate", "fashion", "--weights-dir", str(folder), "--write-mistakes"]) == 2
    assert "its mistakes were not written" in capsys.readouterr().err
    assert not (folder / "fashion.mistakes.npz").exists()
