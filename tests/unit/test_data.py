"""Fashion-MNIST is read from the original IDX files, and validation is held out of train."""

import gzip

import numpy as np
import pytest

from densenet_demo.training.data import (
    CLASS_NAMES,
    TRAIN_SET_IMAGES,
    TRAINING_IMAGES,
    VALIDATION_IMAGES,
    load_fashion_mnist,
    read_idx,
    train_validation_split,
)


@pytest.fixture(scope="module")
def data():
    return load_fashion_mnist()  # Debian's files, else Keras' download


def test_real_files_have_the_published_sizes_and_balanced_classes(data):
    assert data["train"].images.shape == (TRAIN_SET_IMAGES, 28, 28) == (60_000, 28, 28)
    assert data["test"].images.shape == (10_000, 28, 28)
    assert data["train"].images.dtype == np.uint8
    assert np.bincount(data["test"].labels).tolist() == [1000] * len(CLASS_NAMES)


def test_validation_is_disjoint_from_training_and_seeded(data):
    kept, held = train_validation_split(data["train"], VALIDATION_IMAGES, seed=0)
    assert len(kept.labels) == TRAINING_IMAGES and len(held.labels) == VALIDATION_IMAGES
    again = train_validation_split(data["train"], VALIDATION_IMAGES, seed=0)[1]
    assert np.array_equal(held.images, again.images)
    flat = {image.tobytes() for image in held.images[:500]}
    overlap = sum(image.tobytes() in flat for image in kept.images[:20_000])
    assert overlap <= 2  # the dataset itself holds a few duplicate images


def test_truncated_idx_file_is_refused(tmp_path):
    path = tmp_path / "broken-idx3-ubyte.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(
            b"\0\0\x08\x03" + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\0" * 100
        )
    with pytest.raises(ValueError, match="expected 7840 values"):
        read_idx(path)


def test_missing_directory_names_the_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        load_fashion_mnist(tmp_path)
