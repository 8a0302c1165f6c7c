"""load_classifier: checked weights, top-k predictions, dataset batches, refusals."""

import shutil

import numpy as np
import pytest
from PIL import Image

from densenet_demo.inference.classifier import load_classifier
from densenet_demo.training.data import CLASS_NAMES, load_fashion_mnist


@pytest.fixture(scope="module")
def classifier(tiny_weights_dir):
    return load_classifier("fashion", tiny_weights_dir)


@pytest.fixture(scope="module")
def test_images():
    test = load_fashion_mnist()["test"]
    return test.images[:64], test.labels[:64]


def test_predict_returns_top_k_labels_sorted_by_probability(classifier, test_images):
    result = classifier.predict(Image.fromarray(test_images[0][0]), top_k=3)
    assert len(result) == 3 and all(label in CLASS_NAMES for label, _ in result)
    probabilities = [p for _, p in result]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0001


def test_predict_batch_accepts_both_dataset_shapes_and_matches_keras(classifier, test_images):
    images = test_images[0]
    flat, channel = classifier.predict_batch(images), classifier.predict_batch(images[..., None])
    assert flat.shape == (64, 10) and np.allclose(flat, channel)
    assert np.allclose(flat.sum(axis=1), 1.0, atol=1e-5)
    standardised = (images[..., None] / 255.0 - 0.2860) / 0.3530
    keras_output = classifier.model(standardised.astype("float32"), training=False).numpy()
    assert np.abs(flat - keras_output).max() < 1e-5


def test_predict_accepts_a_file_path(classifier, test_images, tmp_path):
    path = tmp_path / "item.png"
    Image.fromarray(test_images[0][1]).save(path)
    assert classifier.predict(path, top_k=1) == classifier.predict(Image.open(path), top_k=1)


def test_card_travels_with_the_classifier(classifier):
    assert classifier.class_names == CLASS_NAMES
    assert classifier.card.test_images == 10_000
    assert sum(map(sum, classifier.card.confusion_matrix)) == 10_000


@pytest.mark.parametrize("top_k", [0, 11, 2.5, True])
def test_bad_top_k_is_refused(classifier, test_images, top_k):
    with pytest.raises(ValueError, match=f"top_k={top_k!r} is invalid"):
        classifier.predict(Image.fromarray(test_images[0][0]), top_k=top_k)


def test_wrong_batch_shape_is_refused(classifier):
    with pytest.raises(ValueError, match=r"shape \(2, 32, 32\) are not supported"):
        classifier.predict_batch(np.zeros((2, 32, 32), np.uint8))


def test_tampered_weights_are_refused(tiny_weights_dir, tmp_path):
    copy = tmp_path / "weights"
    shutil.copytree(tiny_weights_dir, copy)
    data = bytearray((copy / "fashion.weights.h5").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    (copy / "fashion.weights.h5").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match its model card.*refusing to load"):
        load_classifier("fashion", copy)


def test_unknown_model_names_the_available_ones(tiny_weights_dir):
    with pytest.raises(ValueError, match="model 'nope' has no card.*available fashion"):
        load_classifier("nope", tiny_weights_dir)
