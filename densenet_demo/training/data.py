"""Fashion-MNIST from its four original IDX `.gz` files (offline), or Keras' download."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

DEFAULT_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
TRAIN_SET_IMAGES = 60_000  # Fashion-MNIST's training set (its test set is 10,000 more)
VALIDATION_IMAGES = 5_000  # held out of the training set to validate each epoch
TRAINING_IMAGES = TRAIN_SET_IMAGES - VALIDATION_IMAGES  # left to train on: 55,000


class Split(NamedTuple):
    images: np.ndarray  # uint8, (N, 28, 28)
    labels: np.ndarray  # uint8, (N,)


def read_idx(path: Path) -> np.ndarray:
    """Decode one IDX file (gzip-compressed or not): big-endian dims, then uint8 data."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(
            f"{path}: expected {int(np.prod(dims))} values for shape {dims}, found {data.size}"
        )
    return data.reshape(dims)


def load_fashion_mnist(data_dir: str | os.PathLike | None = None) -> dict[str, Split]:
    """{"train": 60,000 images, "test": 10,000}, read from `data_dir` (default: Debian's path).

    Falls back to `keras.datasets.fashion_mnist` (a download) only when no directory was
    given and the default one is missing.
    """
    directory = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if directory.is_dir() or data_dir is not None:
        missing = [
            name for pair in FILES.values() for name in pair if not (directory / name).is_file()
        ]
        if missing:
            raise FileNotFoundError(
                f"{directory} lacks Fashion-MNIST file(s): {', '.join(missing)}"
            )
        return {
            split: Split(read_idx(directory / images), read_idx(directory / labels))
            for split, (images, labels) in FILES.items()
        }
    import keras  # needs a network; kept for machines without the Debian package

    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    return {"train": Split(x_train, y_train), "test": Split(x_test, y_test)}


def train_validation_split(train: Split, validation_size: int, seed: int) -> tuple[Split, Split]:
    """Hold out `validation_size` training images (a seeded, class-blind shuffle) for tuning;
    the test set is never used for that."""
    order = np.random.default_rng(seed).permutation(len(train.labels))
    held, kept = order[:validation_size], order[validation_size:]
    return (
        Split(train.images[kept], train.labels[kept]),
        Split(train.images[held], train.labels[held]),
    )
