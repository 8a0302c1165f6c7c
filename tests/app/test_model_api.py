"""The Model tab: its handler on real weights, and its endpoint through gradio_client against
the app serving the tiny trained model."""

import json
import shutil

import httpx
import numpy as np
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from densenet_demo.inference.card import ModelCard
from densenet_demo.inference.classifier import load_classifier
from densenet_demo.inference.mistakes import load_mistakes
from densenet_demo.ui.model_charts import FEATURE_REUSE_HOW_TO_READ
from densenet_demo.ui.model_tab import GALLERY_LIMIT, ModelTab


@pytest.fixture(scope="module")
def model_client(classify_app_url):
    return Client(classify_app_url, verbose=False)


@pytest.fixture(scope="module")
def tiny_card(tiny_weights_dir):
    return ModelCard.read(tiny_weights_dir / "fashion.json")


def test_misclassified_returns_the_images_of_one_confusion_cell(
    model_client, tiny_card, tiny_weights_dir
):
    names, counts = tiny_card.class_names, np.array(tiny_card.confusion_matrix)
    np.fill_diagonal(counts, -1)
    true, predicted = np.unravel_index(counts.argmax(), counts.shape)
    gallery, sentence = model_client.predict(
        names[true], names[predicted], api_name="/misclassified"
    )
    count = int(counts[true, predicted])
    assert sentence.startswith(
        f"{count} {names[true]} test images were classified as {names[predicted]}"
    )
    cell = load_mistakes(tiny_weights_dir / "fashion.mistakes.npz").pair(true, predicted)
    assert [item["caption"] for item in gallery] == [
        f"test #{index}" for index in cell.indices[:GALLERY_LIMIT]
    ]


def test_an_unknown_class_is_refused_naming_the_menu(model_client):
    with pytest.raises(
        AppError,
        match=r"^Predicted class: 'Hat' is not one of 'T-shirt/top', "
        r".*, 'Ankle boot'$",
    ):
        model_client.predict("Shirt", "Hat", api_name="/misclassified")


def test_a_missing_class_is_refused_in_one_sentence(model_client):
    with pytest.raises(
        AppError,
        match=r"^true class None is not one of the model's classes: "
        r"T-shirt/top, Trouser, .*, Ankle boot$",
    ):
        model_client.predict(None, "Shirt", api_name="/misclassified")


def test_the_same_class_twice_shows_nothing_and_says_why(model_client):
    gallery, sentence = model_client.predict("Shirt", "Shirt", api_name="/misclassified")
    assert gallery == [] and "classified correctly" in sentence


def test_the_model_tab_renders_its_figures_and_how_to_read_feature_reuse(classify_app_url):
    config = httpx.get(classify_app_url + "config", timeout=10).json()
    labels = {component["props"].get("label") for component in config["components"]}
    assert {"Confusion matrix", "Training curves", "True class", "Predicted class"} <= labels
    text = json.dumps(config)
    assert json.dumps(FEATURE_REUSE_HOW_TO_READ)[1:-1] in text


def test_without_the_mistakes_file_the_tab_says_so_in_one_sentence(tiny_weights_dir, tmp_path):
    folder = tmp_path / "weights"
    shutil.copytree(tiny_weights_dir, folder)
    (folder / "fashion.mistakes.npz").unlink()
    classifier = load_classifier("fashion", folder)
    tab = ModelTab(classifier, folder)
    assert tab.mistakes is None
    assert tab.mistakes_unavailable == (
        "The misclassified test images are not shipped with this model (fashion.mistakes.npz "
        "is missing): `python -m densenet_demo evaluate fashion --write-mistakes` writes them."
    )
    assert len(tab.reuse) == 2  # the rest of the tab still has what it needs


def test_a_card_without_feature_reuse_grids_gets_them_from_the_weights(tiny_weights_dir, tmp_path):
    import dataclasses

    folder = tmp_path / "weights"
    shutil.copytree(tiny_weights_dir, folder)
    card_path = folder / "fashion.json"
    card = ModelCard.read(card_path)
    card_path.write_text(dataclasses.replace(card, feature_reuse=None).to_json())
    measured = ModelTab(load_classifier("fashion", folder), folder).reuse
    stored = ModelTab(load_classifier("fashion", tiny_weights_dir), tiny_weights_dir).reuse
    for from_weights, from_card in zip(measured, stored, strict=True):
        np.testing.assert_allclose(from_weights.mean_abs, from_card.mean_abs, atol=1e-6)
