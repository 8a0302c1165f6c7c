"""A trained DenseNet ready to classify: weights checked against their model card, loaded
once, warmed up, and run through the fastest measured path (never `model.predict` per call)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .config import DenseNetConfig
from .preprocess import open_image, to_fashion_input

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"  # the shipped models


class Classifier:
    """`predict(image, top_k)` for one upload, `predict_batch(images)` for dataset arrays."""

    def __init__(self, model, card: dict) -> None:
        from .fast_forward import LiteRTForward

        self.model = model
        self.card = card
        self.class_names: tuple[str, ...] = tuple(card["class_names"])
        preprocessing = card["preprocessing"]
        self._scale, self._mean, self._std = (preprocessing["scale"], preprocessing["mean"],
                                              preprocessing["std"])
        self._forward = LiteRTForward(model)
        self._forward(np.zeros((1, *card["config"]["input_shape"]), np.float32))  # warm up

    def _standardise(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        return ((images.astype(np.float32) * self._scale - self._mean) / self._std)

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes) for uint8 images shaped (N, 28, 28[, 1])."""
        images = np.asarray(images)
        expected = tuple(self.card["config"]["input_shape"][:2])
        if images.dtype != np.uint8 or images.ndim not in (3, 4) or images.shape[1:3] != expected \
                or (images.ndim == 4 and images.shape[3] != 1):
            raise ValueError(f"images of dtype {images.dtype} and shape {images.shape} are not "
                             f"supported: give uint8 (N, {expected[0]}, {expected[1]}) or "
                             f"(N, {expected[0]}, {expected[1]}, 1)")
        return self._forward(self._standardise(images))

    def model_input(self, image) -> np.ndarray:
        """The uint8 28x28 picture the model sees for an upload (path, bytes, PIL, array)."""
        return to_fashion_input(open_image(image))

    def check_top_k(self, top_k) -> int:
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) \
                or not 1 <= top_k <= len(self.class_names):
            raise ValueError(f"top_k={top_k!r} is invalid: allowed an integer from 1 to "
                             f"{len(self.class_names)}")
        return int(top_k)

    def top(self, probabilities: np.ndarray, top_k: int) -> list[tuple[str, float]]:
        """(label, probability) of the `top_k` most probable classes, most probable first."""
        order = np.argsort(probabilities)[::-1][:self.check_top_k(top_k)]
        return [(self.class_names[i], float(probabilities[i])) for i in order]

    def predict(self, image, top_k: int = 5) -> list[tuple[str, float]]:
        """The `top_k` most probable classes for one image, most probable first."""
        self.check_top_k(top_k)
        return self.top(self.predict_batch(self.model_input(image)[None])[0], top_k)


def load_classifier(name: str = "fashion", weights_dir: str | Path | None = None) -> Classifier:
    """The model `weights/<name>.weights.h5`, refused unless its SHA-256 matches the card."""
    from .model import build_model
    from .train import sha256_of

    directory = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    card_path = directory / f"{name}.json"
    if not card_path.is_file():
        available = sorted(path.stem for path in directory.glob("*.json"))
        raise ValueError(f"model {name!r} has no card in {directory}: available "
                         f"{', '.join(available) or 'none'}")
    card = json.loads(card_path.read_text())
    weights_path = directory / card["weights_file"]
    digest = sha256_of(weights_path) if weights_path.is_file() else "missing"
    if digest != card["weights_sha256"]:
        raise ValueError(f"{weights_path} does not match its model card (SHA-256 {digest}, "
                         f"card says {card['weights_sha256']}): refusing to load it")
    model = build_model(DenseNetConfig.from_dict(card["config"]), name=name)
    model.load_weights(weights_path)
    return Classifier(model, card)
