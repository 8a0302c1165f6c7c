"""After training: test the model once on the test set, then write its weights, its
misclassified test images and its model card, each atomically."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import platform
from pathlib import Path

import numpy as np

from ..architecture.config import DenseNetConfig
from ..architecture.summary import summarize
from ..files import sha256_of, write_atomically
from ..inference.card import MirrorAverage, ModelCard, Preprocessing, card_path
from ..inference.feature_reuse import feature_reuse, reuse_matrices
from ..inference.litert import convert
from ..inference.mistakes import confusion_matrix, find_mistakes, mistakes_bytes
from .data import CLASS_NAMES, Split, load_fashion_mnist, train_validation_split
from .trainer import PIXEL_MEAN, PIXEL_STD, TrainSettings, evaluation_dataset, kernel_note


def _mirrored(split: Split) -> Split:
    return Split(split.images[:, :, ::-1], split.labels)


def probabilities(model, split: Split, mirror_average: bool = False) -> np.ndarray:
    """The class probabilities `model` gives each image of `split`, computed the one way the
    card's figures are: averaged with the left-right mirror image's when `mirror_average`."""
    alone = model.predict(evaluation_dataset(split), verbose=0)
    return (alone + probabilities(model, _mirrored(split))) / 2 if mirror_average else alone


def choose_mirror_average(model, validation: Split) -> MirrorAverage:
    """Average with the mirror image only if that raises accuracy on the held-out validation
    images (the test set is never used to choose)."""
    alone = probabilities(model, validation)
    averaged = (alone + probabilities(model, _mirrored(validation))) / 2
    accuracy_alone, accuracy_averaged = (
        float(np.mean(p.argmax(axis=1) == validation.labels)) for p in (alone, averaged)
    )
    return MirrorAverage(
        used=accuracy_averaged > accuracy_alone,
        validation_images=len(validation.labels),
        accuracy_alone=accuracy_alone,
        accuracy_averaged=accuracy_averaged,
    )


def test_report(labels: np.ndarray, predicted: np.ndarray) -> dict:
    """Accuracy, per-class accuracy and confusion matrix (rows: true class) of `predicted`:
    the model card's test fields."""
    confusion = confusion_matrix(labels, predicted, len(CLASS_NAMES))
    per_class = confusion.diagonal() / confusion.sum(axis=1)
    return {
        "test_accuracy": float(np.trace(confusion) / confusion.sum()),
        "test_images": int(confusion.sum()),
        "per_class_accuracy": {name: round(float(a), 4) for name, a in zip(CLASS_NAMES, per_class)},
        "confusion_matrix": tuple(map(tuple, confusion.tolist())),
    }


def export(
    model,
    config: DenseNetConfig,
    settings: TrainSettings,
    meta: dict,
    weights_dir: Path,
    data_dir: str | None = None,
) -> Path:
    """Choose on the validation images whether predictions average the mirror image's
    (`choose_mirror_average`), evaluate on the test set once, then write weights,
    misclassified test images and model card, each atomically."""
    import tensorflow as tf

    from ..architecture.keras_model import build_model

    data = load_fashion_mnist(data_dir)
    test = data["test"]
    shipped = build_model(config, name=settings.name)  # no optimizer: half the file size
    shipped.set_weights(model.get_weights())
    # Tested as shipped: under tf.distribute each replica keeps its own BatchNorm statistics
    # (Keras 3), so the trained model's predictions would mix replicas the file lacks.
    _, validation = train_validation_split(data["train"], settings.validation_size, settings.seed)
    mirror = choose_mirror_average(shipped, validation)
    predicted = probabilities(shipped, test, mirror.used).argmax(axis=1)
    report = test_report(test.labels, predicted)
    weights_dir.mkdir(parents=True, exist_ok=True)
    weights_path = weights_dir / f"{settings.name}.weights.h5"
    temporary = weights_dir / f".{settings.name}.{os.getpid()}.weights.h5"
    shipped.save_weights(temporary)
    os.replace(temporary, weights_path)
    card = ModelCard(
        name=settings.name,
        config=config,
        class_names=CLASS_NAMES,
        preprocessing=Preprocessing(
            kind="fashion",
            input="28x28 grayscale, light item on a black background",
            scale=1 / 255,
            mean=PIXEL_MEAN,
            std=PIXEL_STD,
        ),
        **report,
        params=summarize(config).total_params,
        epochs=meta["epochs_done"],
        batch_size=settings.batch_size,
        seed=settings.seed,
        settings=dataclasses.asdict(settings),
        validation="the last completed epoch's val_accuracy on "
        f"{settings.validation_size} held-out training images",
        final_val_accuracy=meta["history"][-1].get("val_accuracy"),
        history=tuple(meta["history"]),  # per-epoch loss and accuracy, train and validation
        command=meta["command"],
        command_note=kernel_note(meta),
        train_seconds=round(meta["train_seconds"]),
        hardware={
            "machine": platform.machine(),
            "processor": processor_name(),
            "cpu_count": os.cpu_count(),
            "tensorflow": tf.__version__,
        },
        weights_file=weights_path.name,
        weights_sha256=sha256_of(weights_path),
        **save_mistakes(weights_dir, settings.name, test, predicted),
        mirror_average=mirror,
        **save_serving_files(shipped, config, weights_dir, settings.name),
    )
    card.write(card_path(weights_dir, settings.name))
    return weights_path


def processor_name() -> str:
    """The CPU's model name: `platform.processor()` is empty on Linux, /proc/cpuinfo has it."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor()


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
    dataclasses.replace(card, **fields).write(card_path(folder, card.name))
    return folder / fields["litert_file"]


def write_mistakes(model, weights_dir: Path, name: str, data_dir: str | None = None) -> Path:
    """(Re)write the mistakes file of an exported model and name it in its card.

    The test set is predicted as `export` predicted it, and nothing is written unless the
    confusion matrix equals the card's: the images shown must agree with the card's figures.
    """
    path = card_path(weights_dir, name)
    card = ModelCard.read(path)
    test = load_fashion_mnist(data_dir)["test"]
    predicted = probabilities(model, test, card.mirror_averaged).argmax(axis=1)
    if test_report(test.labels, predicted)["confusion_matrix"] != card.confusion_matrix:
        raise ValueError(
            f"the model's test-set predictions differ from the confusion matrix "
            f"in {path}: its mistakes were not written"
        )
    card = dataclasses.replace(card, **save_mistakes(path.parent, name, test, predicted))
    card.write(path)
    return path.parent / card.mistakes_file
