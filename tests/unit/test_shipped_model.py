"""The shipped Fashion-MNIST model (weights/fashion.*) against its own card, on real images."""

import numpy as np
import pytest

from densenet_demo.inference.classifier import WEIGHTS_DIR, load_classifier
from densenet_demo.training.calibration import as_photo, classes_as_photos

from support import SAMPLE

pytestmark = [
    pytest.mark.slow,  # loads and converts a Keras model
    pytest.mark.skipif(
        not (WEIGHTS_DIR / "fashion.weights.h5").exists(),
        reason="weights/fashion.weights.h5 is not trained yet",
    ),
]


@pytest.fixture(scope="module")
def shipped():
    return load_classifier("fashion")


@pytest.fixture(scope="module")
def sample():
    with np.load(SAMPLE) as data:
        return data["images"], data["labels"]


def test_card_meets_the_bar(shipped):
    assert shipped.card.test_accuracy >= 0.95
    assert shipped.card.params <= 800_000
    assert (WEIGHTS_DIR / "fashion.weights.h5").stat().st_size < 10_000_000


def test_committed_sample_accuracy_is_within_1_5_points_of_the_card(shipped, sample):
    images, labels = sample
    accuracy = float(np.mean(shipped.predict_batch(images).argmax(axis=1) == labels))
    assert abs(accuracy - shipped.card.test_accuracy) <= 0.015


def test_dataset_array_and_enlarged_photo_get_the_same_class(shipped, sample):
    images = sample[0][::10]  # every tenth of the 2,000: 200 images
    from_arrays = shipped.predict_batch(images).argmax(axis=1)
    from_photos = classes_as_photos(shipped, images)  # dark item on white, RGB, enlarged
    uploaded = [shipped.predict(as_photo(image), top_k=1)[0][0] for image in images]
    assert uploaded == [shipped.class_names[i] for i in from_photos]  # the app's one-by-one path
    assert np.mean(from_photos == from_arrays) >= 0.95
