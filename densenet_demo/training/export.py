"""After training: test the model once on the test set, then write its weights, its
misclassified test images and its model card, each atomically."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
from pathlib import Path

import numpy as np

from ..architecture.config import DenseNetConfig
from ..architecture.summary import summarize
from ..files import sha256_of, write_atomically
from ..inference.card import ModelCard
from ..inference.feature_reuse import feature_reuse, reuse_matrices
from ..inference.litert import convert
from ..inference.mistakes import confusion_matrix, find_mistakes, mistakes_bytes
from .data import CLASS_NAMES, Split, load_fashion_mnist
from .trainer import PIXEL_MEAN, PIXEL_STD, TrainSettings, evaluation_dataset, kernel_note


def predict_classes(model, test: Split) -> np.ndarray:
    """The class `model` gives each image of `test`, computed the one way the card's are."""
    return model.predict(evaluation_dataset(test), verbose=0).argmax(axis=1)


def test_report(labels: np.ndarray, predicted: np.ndarray) -> dict:
    """Accuracy, per-class accuracy and confusion matrix (rows: true class) of `predicted`."""
    confusion = confusion_matrix(labels, predicted, len(CLASS_NAMES))
    per_class = confusion.diagonal() / confusion.sum(axis=1)
    return {
        "test_accuracy": float(np.trace(confusion) / confusion.sum()),
        "test_images": int(confusion.sum()),
        "per_class_accuracy": {name: round(float(a), 4) for name, a in zip(CLASS_NAMES, per_class)},
        "confusion_matrix": confusion.tolist(),
    }


def export(
    model,
    config: DenseNetConfig,
    settings: TrainSettings,
    meta: dict,
    weights_dir: Path,
    data_dir: str | None = None,
) -> Path:
    """Evaluate on the test set once, then write weights, misclassified test images and model
    card, each atomically."""
    import tensorflow as tf

    from ..architecture.keras_model import build_model

    test = load_fashion_mnist(data_dir)["test"]
    shipped = build_model(config, name=settings.name)  # no optimizer: half the file size
    shipped.set_weights(model.get_weights())
    # Tested as shipped: under tf.distribute each replica keeps its own BatchNorm statistics
    # (Keras 3), so the trained model's predictions would mix replicas the file lacks.
    predicted = predict_classes(shipped, test)
    report = test_report(test.labels, predicted)
    weights_dir.mkdir(parents=True, exist_ok=True)
    weights_path = weights_dir / f"{settings.name}.weights.h5"
    temporary = weights_dir / f".{settings.name}.{os.getpid()}.weights.h5"
    shipped.save_weights(temporary)
    os.replace(temporary, weights_path)
    card_path = weights_dir / f"{settings.name}.json"
    values = {
        "name": settings.name,
        "config": config.to_dict(),
        "class_names": list(CLASS_NAMES),
        "preprocessing": {
            "kind": "fashion",
            "input": "28x28 grayscale, light item on a black background",
            "scale": 1 / 255,
            "mean": PIXEL_MEAN,
            "std": PIXEL_STD,
        },
        **report,
        "params": summarize(config).total_params,
        "epochs": meta["epochs_done"],
        "batch_size": settings.batch_size,
        "seed": settings.seed,
        "settings": dataclasses.asdict(settings),
        "validation": "the last completed epoch's val_accuracy on "
        f"{settings.validation_size} held-out training images",
        "final_val_accuracy": meta["history"][-1].get("val_accuracy"),
        "history": meta["history"],  # per-epoch loss and accuracy, train and validation
        "command": meta["command"],
        **({"command_note": note} if (note := kernel_note(meta)) else {}),
        "train_seconds": round(meta["train_seconds"]),
        "hardware": {
            "machine": platform.machine(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "tensorflow": tf.__version__,
        },
        "weights_file": weights_path.name,
        "weights_sha256": sha256_of(weights_path),
        **save_mistakes(weights_dir, settings.name, test, predicted),
        **save_serving_files(shipped, config, weights_dir, settings.name),
    }
    # Read back as any reader will: a card that would be refused is never written.
    write_card(card_path, ModelCard.from_json(json.dumps(values), card_path))
    return weights_path


def write_card(path: Path, card: ModelCard) -> None:
    write_atomically(path, card.to_json().encode())


def save_mistakes(weights_dir: Path, name: str, test: Split, predicted: np.ndarray) -> dict:
    """Write `<name>.mistakes.npz` (the misclassified test images); returns the card fields
    that name it."""
    data = mistakes_bytes(find_mistakes(test.images, test.labels, predicted))
    path = weights_dir / f"{name}.mistakes.npz"
    write_atomically(path, data)
    return {"mistakes_file": path.name, "mistakes_sha256": hashlib.sha256(data).hexdigest()}


def save_serving_files(model, config: DenseNetConfig, weights_dir: Path, name: str) -> dict:
    """Write `<name>.tflite` (the network converted to LiteRT) and measure its feature reuse:
    what the app serves without TensorFlow. Returns the card fields that name them."""
    flatbuffer = convert(model)
    path = Path(weights_dir) / f"{name}.tflite"
    write_atomically(path, flatbuffer)
    return {
        "litert_file": path.name,
        "litert_sha256": hashlib.sha256(flatbuffer).hexdigest(),
        "feature_reuse": reuse_matrices(feature_reuse(model, config)),
    }


def prepare_for_serving(classifier) -> Path:
    """Convert an exported model (a `Classifier` loaded from its weights) for serving without
    TensorFlow, and name the files in its card. Returns the converted file's path."""
    folder = classifier.weights_path.parent
    card = classifier.card
    fields = save_serving_files(classifier.model, card.config, folder, card.name)
    write_card(folder / f"{card.name}.json", dataclasses.replace(card, **fields))
    return folder / fields["litert_file"]


def write_mistakes(model, weights_dir: Path, name: str, data_dir: str | None = None) -> Path:
    """(Re)write the mistakes file of an exported model and name it in its card.

    The test set is predicted as `export` predicted it, and nothing is written unless the
    confusion matrix equals the card's: the images shown must agree with the card's figures.
    """
    card_path = Path(weights_dir) / f"{name}.json"
    card = ModelCard.read(card_path)
    test = load_fashion_mnist(data_dir)["test"]
    predicted = predict_classes(model, test)
    confusion = test_report(test.labels, predicted)["confusion_matrix"]
    if tuple(map(tuple, confusion)) != card.confusion_matrix:
        raise ValueError(
            f"the model's test-set predictions differ from the confusion matrix "
            f"in {card_path}: its mistakes were not written"
        )
    card = dataclasses.replace(card, **save_mistakes(card_path.parent, name, test, predicted))
    write_card(card_path, card)
    return card_path.parent / card.mistakes_file
