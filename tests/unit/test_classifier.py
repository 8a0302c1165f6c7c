"""load_classifier: checked weights, top-k predictions, dataset batches, refusals."""

import shutil

import numpy as np
import pytest
from PIL import Image

from densenet_demo.inference.classifier import load_classifier
from densenet_demo.training.data import CLASS_NAMES, load_fashion_mnist, train_validation_split

from support import with_mirror_average


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
    standardised = ((images[..., None] / 255.0 - 0.2860) / 0.3530).astype("float32")
    keras_output = classifier.model(standardised, training=False).numpy()
    if classifier.card.mirror_averaged:  # as export chose on the validation images
        mirrored = classifier.model(standardised[:, :, ::-1], training=False).numpy()
        keras_output = (keras_output + mirrored) / 2
    assert np.abs(flat - keras_output).max() < 1e-5


def test_the_cards_mirror_average_averages_each_picture_with_its_mirror_image(
    tiny_weights_dir, tmp_path, test_images
):
    images = test_images[0]
    alone = load_classifier("fashion", with_mirror_average(tiny_weights_dir, tmp_path / "a", False))
    both = load_classifier("fashion", with_mirror_average(tiny_weights_dir, tmp_path / "b", True))
    as_is, mirrored = alone.forward(images), alone.forward(images[:, :, ::-1])
    averaged = both.forward(images)  # (features, probabilities), each averaged
    for single, flipped, mean in zip(as_is, mirrored, averaged):
        assert np.allclose(mean, (single + flipped) / 2, atol=1e-6)
        assert not np.allclose(mean, single, atol=1e-4)
    top = both.predict(Image.fromarray(images[0]), top_k=1)[0]
    assert top[0] == CLASS_NAMES[averaged[1][0].argmax()]


def test_export_chose_the_mirror_average_on_the_held_out_validation_images(
    classifier, tiny_weights_dir, tmp_path
):
    settings, choice = classifier.card.settings, classifier.card.mirror_average
    train = load_fashion_mnist()["train"]
    images, labels = train_validation_split(train, settings["validation_size"], settings["seed"])[1]
    alone = load_classifier("fashion", with_mirror_average(tiny_weights_dir, tmp_path / "a", False))
    as_is, mirrored = alone.predict_batch(images), alone.predict_batch(images[:, :, ::-1])
    assert choice.validation_images == len(labels) == 200
    one_image = 1 / len(labels) + 1e-9  # LiteRT's rounding may tip a near tie
    assert choice.accuracy_alone == pytest.approx(np.mean(as_is.argmax(1) == labels), abs=one_image)
    averaged = np.mean((as_is + mirrored).argmax(1) == labels)
    assert choice.accuracy_averaged == pytest.approx(averaged, abs=one_image)
    assert choice.used == (choice.accuracy_averaged > choice.accuracy_alone)


def test_predict_accepts_a_file_path(classifier, test_images, tmp_path):
    path = tmp_path / "item.png"
    Image.fromarray(test_images[0][1]).save(path)
    assert classifier.predict(path, top_k=1) == classifier.predict(Image.open(path), top_k=1)


def test_card_travels_with_the_classifier(classifier):
    assert classifier.class_names == CLASS_NAMES
    assert classifier.card.test_images == 10_000
    assert sum(map(sum, classifier.card.confusion_matrix)) == 10_000
    assert classifier.card.hardware["processor"]  # the CPU's name, which Linux's platform lacks


@pytest.mark.parametrize("top_k", [0, 11, 2.5, True, "3"])
def test_bad_top_k_is_refused(classifier, test_images, top_k):
    with pytest.raises(
        ValueError, match=rf"^top_k={top_k!r} is invalid: allowed an integer from 1 to 10$"
    ):
        classifier.predict(Image.fromarray(test_images[0][0]), top_k=top_k)


def test_a_whole_top_k_of_any_number_type_is_taken(classifier, test_images):
    image = Image.fromarray(test_images[0][0])
    assert (
        len(classifier.predict(image, top_k=2.0))
        == len(classifier.predict(image, np.int64(2)))
        == 2
    )


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
