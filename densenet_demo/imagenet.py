"""Keras' published ImageNet DenseNets in our own `build_model`: weight files, classes, input.

The weights are Keras' files (legacy HDF5, loaded by layer order, which `build_model` shares
with `keras.applications`), taken from a local folder when it holds them under their published
names, else from Keras' cache, downloaded there on first use as `keras.applications` does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from .preprocess import _flatten_transparency
from .presets import PRESET_INFO, PRESETS

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
OFFLINE_VARIABLE = "DENSENET_OFFLINE"  # set to 1: never download, use only the weights folder
CLASSES_FILE = Path(__file__).resolve().with_name("imagenet_classes.txt")

# Keras' "torch" mode: scale to [0, 1], then each channel standardised with ImageNet's statistics.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CROP_SIZE = 224
RESIZE_SIZE = 256  # shorter side before the centre crop: the paper's single-crop evaluation


class WeightFile(NamedTuple):
    """One published file: its name (also its name in a weights folder) and Keras' MD5."""

    file_name: str
    md5: str


WEIGHT_FILES = {  # as in keras/src/applications/densenet.py (with the classifier: include_top)
    "densenet121": WeightFile("densenet121_weights_tf_dim_ordering_tf_kernels.h5",
                              "9d60b8095a5708f2dcce2bca79d332c7"),
    "densenet169": WeightFile("densenet169_weights_tf_dim_ordering_tf_kernels.h5",
                              "d699b8f76981ab1b30698df4c175e90b"),
    "densenet201": WeightFile("densenet201_weights_tf_dim_ordering_tf_kernels.h5",
                              "1ceb130c1ea1b78c3bf6114dbdfd8807"),
}

CLASS_NAMES: tuple[str, ...] = tuple(
    line for line in CLASSES_FILE.read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#"))


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
    if not downloads_allowed():
        raise ValueError(f"{title} is unavailable: its weights file {file_name} is {where} and "
                         f"downloads are off ({OFFLINE_VARIABLE}=1).")
    from keras.utils import get_file

    try:
        return Path(get_file(file_name, BASE_URL + file_name, cache_subdir="models",
                             file_hash=md5))
    except Exception as error:  # noqa: BLE001 - get_file raises a bare Exception when offline
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{title} is unavailable: its weights file {file_name} is {where} and "
                         f"could not be downloaded ({reason}).") from None


def imagenet_card(name: str) -> dict:
    """The model card of a Keras ImageNet DenseNet: what `Classifier` and the UI read."""
    from .summary import summarize

    file_name, md5 = WEIGHT_FILES[name]
    return {
        "name": name,
        "title": PRESET_INFO[name].title,
        "about": PRESET_INFO[name].note,
        "config": PRESETS[name].to_dict(),
        "class_names": list(CLASS_NAMES),
        "preprocessing": {"kind": "imagenet",
                          "input": f"{CROP_SIZE}x{CROP_SIZE} RGB, the centre of the picture "
                                   f"with its shorter side resized to {RESIZE_SIZE}",
                          "scale": 1 / 255, "mean": list(MEAN), "std": list(STD)},
        "params": summarize(PRESETS[name]).total_params,
        "weights_file": file_name,
        "weights_url": BASE_URL + file_name,
        "weights_md5": md5,
    }


def to_imagenet_input(image: Image.Image) -> np.ndarray:
    """uint8 (224, 224, 3): RGB, shorter side resized to 256 (antialiased), centre crop."""
    return imagenet_input_and_box(image)[0]


def imagenet_input_and_box(image: Image.Image) -> tuple[np.ndarray, tuple[float, ...]]:
    """`to_imagenet_input(image)` and the square of `image` it shows (left, top, right,
    bottom). The centre square is cut first and only it is resized: resizing the whole
    picture first would turn a 25-megapixel strip of 1 px height into billions of pixels."""
    image = _flatten_transparency(image).convert("RGB")
    width, height = image.size
    side = min(width, height) * CROP_SIZE / RESIZE_SIZE
    box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    crop = image.resize((CROP_SIZE, CROP_SIZE), Image.Resampling.BILINEAR, box=box)
    return np.asarray(crop), box
