"""Keras' published ImageNet DenseNets in our own `build_model`: weight files, classes, card.

The weights are Keras' files (legacy HDF5, loaded by layer order, which `build_model` shares
with `keras.applications`), taken from a local folder when it holds them under their published
names, else from Keras' cache, downloaded there on first use as `keras.applications` does.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import NamedTuple

from ..architecture.presets import PRESET_INFO, PRESETS
from ..architecture.summary import summarize
from .card import ModelCard, Preprocessing
from .model_inputs import CROP_SIZE, IMAGENET_MEAN, IMAGENET_STD, RESIZE_SIZE

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
OFFLINE_VARIABLE = "DENSENET_OFFLINE"  # set to 1: never download, use only the weights folder
FOLDER_VARIABLE = "DENSENET_WEIGHTS_DIR"  # the app's weights folder (the CLI: --weights-dir)
LOG = logging.getLogger(__name__)
CLASSES_FILE = Path(__file__).resolve().with_name("imagenet_classes.txt")


class WeightFile(NamedTuple):
    """One published file: its name (also its name in a weights folder) and Keras' MD5."""

    file_name: str
    md5: str


WEIGHT_FILES = {  # as in keras/src/applications/densenet.py (with the classifier: include_top)
    "densenet121": WeightFile(
        "densenet121_weights_tf_dim_ordering_tf_kernels.h5", "9d60b8095a5708f2dcce2bca79d332c7"
    ),
    "densenet169": WeightFile(
        "densenet169_weights_tf_dim_ordering_tf_kernels.h5", "d699b8f76981ab1b30698df4c175e90b"
    ),
    "densenet201": WeightFile(
        "densenet201_weights_tf_dim_ordering_tf_kernels.h5", "1ceb130c1ea1b78c3bf6114dbdfd8807"
    ),
}

CLASS_NAMES: tuple[str, ...] = tuple(
    line
    for line in CLASSES_FILE.read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
)


def downloads_allowed() -> bool:
    """False when `DENSENET_OFFLINE` is set (to anything but 0): no network is even tried."""
    return os.environ.get(OFFLINE_VARIABLE, "0").strip().lower() in ("", "0", "false", "no")


def weights_path(name: str, folder: str | Path | None = None) -> Path:
    """The published weights file of `name`: `folder`'s copy if it has one (used as it is: the
    folder is the operator's choice), else Keras' cache, downloaded there and checked against
    Keras' MD5 unless downloads are off (`DENSENET_OFFLINE=1`).

    Raises `ValueError` with one sentence when the file cannot be had.
    """
    file_name, md5 = WEIGHT_FILES[name]
    title = PRESET_INFO[name].title
    if folder is not None and (Path(folder) / file_name).is_file():
        return Path(folder) / file_name
    where = f"not in {folder}" if folder is not None else "in no weights folder"
    remedy = (
        f"put {file_name} in the weights folder ({FOLDER_VARIABLE}, or --weights-dir on "
        "the command line)"
    )
    if not downloads_allowed():
        raise ValueError(
            f"{title} is unavailable: its weights file is {where} and downloads are off "
            f"({OFFLINE_VARIABLE}=1): {remedy}."
        )
    from keras.utils import get_file

    try:
        return Path(get_file(file_name, BASE_URL + file_name, cache_subdir="models", file_hash=md5))
    except Exception as error:  # noqa: BLE001 - get_file raises a bare Exception when offline
        # The reason (a URL and an errno) is for the operator's log, not for the person.
        LOG.warning("downloading %s failed: %s", file_name, error)
        raise ValueError(
            f"{title} is unavailable: its weights file is {where} and could not be "
            f"downloaded (no network?): {remedy}, or connect this machine to the internet "
            "once."
        ) from None


def imagenet_card(name: str) -> ModelCard:
    """The model card of a Keras ImageNet DenseNet: what `Classifier` and the UI read."""
    file_name, md5 = WEIGHT_FILES[name]
    return ModelCard(
        name=name,
        title=PRESET_INFO[name].title,
        about=PRESET_INFO[name].note,
        config=PRESETS[name],
        class_names=CLASS_NAMES,
        preprocessing=Preprocessing(
            kind="imagenet",
            input=f"{CROP_SIZE}x{CROP_SIZE} RGB, the centre of the picture "
            f"with its shorter side resized to {RESIZE_SIZE}",
            scale=1 / 255,
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
        ),
        params=summarize(PRESETS[name]).total_params,
        weights_file=file_name,
        weights_url=BASE_URL + file_name,
        weights_md5=md5,
    )
