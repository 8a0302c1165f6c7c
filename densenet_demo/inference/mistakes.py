"""The test images a model gets wrong, shipped beside its weights so the Model tab can show
them on a machine without the Fashion-MNIST test set (a fresh install, Hugging Face Spaces)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import NamedTuple

import numpy as np

FIELDS = ("images", "indices", "true", "predicted")


class Mistakes(NamedTuple):
    """Misclassified test images, in test-set order."""

    images: np.ndarray  # uint8 (N, height, width)
    indices: np.ndarray  # int32 (N,): positions in the test set
    true: np.ndarray  # uint8 (N,): the labelled class
    predicted: np.ndarray  # uint8 (N,): the model's class

    def pair(self, true: int, predicted: int) -> Mistakes:
        """The mistakes of one confusion-matrix cell: labelled `true`, predicted `predicted`."""
        keep = (self.true == true) & (self.predicted == predicted)
        return Mistakes(*(array[keep] for array in self))


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts of (true class, predicted class) pairs, rows the true class."""
    counts = np.zeros((classes, classes), dtype=int)
    np.add.at(counts, (np.asarray(true, int), np.asarray(predicted, int)), 1)
    return counts


def find_mistakes(images: np.ndarray, labels: np.ndarray, predicted: np.ndarray) -> Mistakes:
    """The test images whose predicted class differs from their label."""
    wrong = np.flatnonzero(np.asarray(predicted) != np.asarray(labels))
    return Mistakes(
        np.asarray(images, np.uint8)[wrong],
        wrong.astype(np.int32),
        np.asarray(labels, np.uint8)[wrong],
        np.asarray(predicted, np.uint8)[wrong],
    )


def mistakes_bytes(mistakes: Mistakes) -> bytes:
    """A compressed `.npz` (about half a KiB per image for Fashion-MNIST)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **mistakes._asdict())
    return buffer.getvalue()


def load_mistakes(path: str | Path) -> Mistakes:
    """Read a file written from `mistakes_bytes`; `ValueError` if it is not one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {field: data[field] for field in FIELDS}
    except (OSError, KeyError, ValueError) as error:
        raise ValueError(f"{path} is not a mistakes file ({error})") from None
    count = len(arrays["indices"])
    if (
        arrays["images"].dtype != np.uint8
        or arrays["images"].ndim != 3
        or any(len(array) != count for array in arrays.values())
    ):
        raise ValueError(f"{path} is not a mistakes file (arrays of mismatched shape or type)")
    return Mistakes(**arrays)
