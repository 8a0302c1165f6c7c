"""A trained DenseNet ready to classify: weights checked against their model card (or Keras'
published ImageNet weights), loaded once, warmed up, and run through the fastest measured path
(never `model.predict` per call)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ..architecture.config import check_integer
from ..files import sha256_of, shipped
from . import imagenet
from .card import ModelCard, card_path
from .domain import load_statistics
from .image_file import open_image
from .litert import LiteRTForward, convert, convert_in_child
from .model_inputs import MODEL_INPUTS
from .runs import is_run_id, run_folder

WEIGHTS_DIR = shipped("weights")  # the models that ship with the project


class Classifier:
    """`predict(image, top_k)` for one upload, `predict_batch(images)` for dataset arrays.

    The network runs on LiteRT (`forward`: pooled features and class probabilities in one
    pass, averaged with the mirror image's where the card's `mirror_average` says). The Keras
    model, which only gradients (Grad-CAM) and training need, is built on first use of
    `model`: a converted model is served without importing TensorFlow.
    """

    def __init__(
        self,
        card: ModelCard,
        forward: LiteRTForward,
        weights_path: Path | None = None,
        model=None,
    ) -> None:
        self.card = card
        self.weights_path = weights_path  # the card's other files lie beside it
        self.class_names = card.class_names
        self.input_shape = card.config.input_shape
        preprocessing = card.preprocessing
        self._to_model_input = MODEL_INPUTS[preprocessing.kind]
        # Scalars (Fashion-MNIST) or one value per channel (ImageNet), broadcast over pixels.
        self._scale, self._mean, self._std = (
            np.asarray(value, np.float32)
            for value in (preprocessing.scale, preprocessing.mean, preprocessing.std)
        )
        self._forward = forward
        self._model = model
        self._building = threading.Lock()
        self.domain = load_statistics(card, weights_path.parent) if weights_path else None
        self.forward(np.zeros((1, *self.input_shape), np.uint8))  # warm up

    @property
    def model(self):
        """The Keras model, built and loaded on first use (Keras is imported then)."""
        with self._building:
            if self._model is None:
                self._model = keras_model(self.card, self.weights_path)
            return self._model

    def standardise(self, images: np.ndarray) -> np.ndarray:
        """uint8 model inputs (N, H, W[, C]) as the network reads them (float32, normalised)."""
        images = np.asarray(images).reshape(len(images), *self.input_shape)
        return (images.astype(np.float32) * self._scale - self._mean) / self._std

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes) for uint8 model inputs (N, H, W, C), or (N, H, W)
        for one channel: dataset arrays, or stacked `model_input` results."""
        return self.forward(images)[1]

    def features_batch(self, images: np.ndarray) -> np.ndarray:
        """The pooled features (N, D) the classifier layer reads, for uint8 model inputs as
        `predict_batch` takes them."""
        return self.forward(images)[0]

    def forward(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pooled features (N, D), class probabilities (N, classes)) in one pass, for uint8
        model inputs as `predict_batch` takes them."""
        images = np.asarray(images)
        height, width, channels = self.input_shape
        shapes = [(height, width)] * (channels == 1) + [(height, width, channels)]
        if images.dtype != np.uint8 or images.shape[1:] not in shapes:
            allowed = " or ".join(f"(N, {', '.join(map(str, shape))})" for shape in shapes)
            raise ValueError(
                f"images of dtype {images.dtype} and shape {images.shape} are not "
                f"supported: give uint8 {allowed}"
            )
        standardised = self.standardise(images)
        if not self.card.mirror_averaged:
            return self._forward(standardised)
        # The picture and its left-right mirror in one pass, as the card's figures were made.
        both = self._forward(np.concatenate([standardised, standardised[:, :, ::-1]]))
        return tuple((outputs[: len(images)] + outputs[len(images) :]) / 2 for outputs in both)

    def model_input(self, image) -> np.ndarray:
        """The uint8 picture the model sees for an upload (path, bytes, PIL, array): 28x28
        grayscale for Fashion-MNIST, 224x224 RGB for ImageNet."""
        return self.model_input_and_box(image)[0]

    def model_input_and_box(self, image) -> tuple[np.ndarray, tuple[float, ...]]:
        """`model_input(image)` and the square (left, top, right, bottom) of the upload it
        shows: what lays a map of the model input (Grad-CAM) back onto the upload."""
        return self._to_model_input(open_image(image))

    def check_top_k(self, top_k) -> int:
        """`top_k` as an int, `ValueError` unless from 1 to the number of classes."""
        return check_integer("top_k", top_k, 1, len(self.class_names))

    def top(self, probabilities: np.ndarray, top_k: int) -> list[tuple[str, float]]:
        """(label, probability) of the `top_k` most probable classes, most probable first."""
        order = np.argsort(probabilities)[::-1][: self.check_top_k(top_k)]
        return [(self.class_names[i], float(probabilities[i])) for i in order]

    def predict(self, image, top_k: int = 5) -> list[tuple[str, float]]:
        """The `top_k` most probable classes for one image, most probable first."""
        self.check_top_k(top_k)
        return self.top(self.predict_batch(self.model_input(image)[None])[0], top_k)


def _find_card(name: str, weights_dir: str | Path | None) -> Path:
    """`<name>.json` in `weights_dir`, else in the shipped weights/."""
    directories = list(
        dict.fromkeys(([Path(weights_dir)] if weights_dir is not None else []) + [WEIGHTS_DIR])
    )
    for directory in directories:
        if card_path(directory, name).is_file():
            return card_path(directory, name)
    cards = sorted({path.stem for directory in directories for path in directory.glob("*.json")})
    raise ValueError(
        f"model {name!r} has no card in {' or '.join(map(str, directories))}: "
        f"available {', '.join(cards + list(imagenet.WEIGHT_FILES))}"
    )


def _checked(path: Path, expected: str | None) -> Path:
    """`path`, refused unless the file's SHA-256 is the one its model card names."""
    digest = sha256_of(path) if path.is_file() else "missing"
    if digest != expected:
        raise ValueError(
            f"{path} does not match its model card (SHA-256 {digest}, card says {expected}): "
            "refusing to load it"
        )
    return path


def _checked_card(name: str, weights_dir: str | Path | None) -> tuple[ModelCard, Path]:
    """A trained model's card and weights file, refused unless the file's SHA-256 matches."""
    path = _find_card(name, weights_dir)
    card = ModelCard.read(path)
    return card, _checked(path.parent / card.weights_file, card.weights_sha256)


def keras_model(card: ModelCard, weights_path: Path):
    """The Keras model of `card` with its weights: `ValueError` when the file does not fit."""
    from ..architecture.keras_model import build_model

    model = build_model(card.config, name=card.name)
    try:
        model.load_weights(weights_path)  # a legacy .h5 (Keras' ImageNet files) loads by order
    except (ValueError, OSError) as error:
        raise ValueError(
            f"{weights_path} is not a weights file for {card.name} ({str(error).splitlines()[0]})."
        ) from None
    return model


def load_classifier(
    name: str | Path = "fashion", weights_dir: str | Path | None = None, isolated: bool = False
) -> Classifier:
    """The model `name`: Keras' ImageNet weights for densenet121/169/201 (from `weights_dir`
    under their published names, else Keras' cache or a download: `imagenet.weights_path`),
    a Train-tab run (its id, or its folder), or a model this project trained, `<name>.json`
    and its weights in `weights_dir`, else in the shipped weights/, refused unless the
    weights' SHA-256 matches the card.

    A trained model whose card names a converted file (`litert_file`, SHA-256 checked too) is
    served from it without TensorFlow; any other is converted now, in a child process when
    `isolated` (`litert.convert_in_child`, for a server).

    Raises `ValueError` with one sentence when the model cannot be loaded; a refusal comes
    before Keras is even imported.
    """
    if is_run_id(name):
        weights_dir = run_folder(name)
    elif isinstance(name, Path) or "/" in name:  # a run's folder holds `<its name>.json`
        name, weights_dir = Path(name).name, Path(name)
    if name in imagenet.WEIGHT_FILES:
        card, weights_path = imagenet.imagenet_card(name), imagenet.weights_path(name, weights_dir)
    else:
        card, weights_path = _checked_card(name, weights_dir)
    shape, classes = card.config.input_shape, card.config.num_classes
    if card.litert_file is not None:
        converted = _checked(weights_path.parent / card.litert_file, card.litert_sha256)
        forward = LiteRTForward(converted.read_bytes(), shape, classes, str(converted))
        return Classifier(card, forward, weights_path)
    model = keras_model(card, weights_path)
    flatbuffer = convert_in_child(model) if isolated else convert(model)
    return Classifier(card, LiteRTForward(flatbuffer, shape, classes), weights_path, model)
