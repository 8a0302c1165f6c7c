"""Train a DenseNet on Fashion-MNIST: resumable, checkpointed every epoch (`export` then
tests it once and writes the weights and their model card).

Each epoch's shuffle and augmentation are derived from (seed, epoch) with stateless random
ops, so a run killed and resumed sees exactly the data an uninterrupted run would have seen.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..architecture.config import DenseNetConfig
from ..files import write_atomically
from .data import (
    CLASS_NAMES,
    TRAIN_SET_IMAGES,
    VALIDATION_IMAGES,
    Split,
    load_fashion_mnist,
    train_validation_split,
)
from .distribute import checkpoint_dir, distribution_strategy

DEFAULT_RUN_DIR = Path.home() / ".cache" / "densenet-explorer" / "runs"
# Per-pixel statistics of the Fashion-MNIST training set, after scaling to [0, 1].
PIXEL_MEAN, PIXEL_STD = 0.2860, 0.3530


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """Everything a training run depends on; stored in the checkpoint and the model card."""

    name: str = "fashion"
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 0.1  # peak, after a one-epoch linear warm-up; cosine decay to 0
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    validation_size: int = VALIDATION_IMAGES
    seed: int = 0
    crop_padding: int = 2
    erase_probability: float = 0.5
    # How many of the training images not held out are trained on (the first of a seeded
    # shuffle; a few hundred make a quick test run). None: all of them (`TRAIN_SET_IMAGES`
    # less validation_size), stored as the count.
    train_images: int | None = None
    # XLA for the train step: 1.2-1.6x the images/s on the fashion preset with Keras' own
    # BatchNormalization; with the fused one, no faster (benchmarks/train.py).
    xla: bool = False
    # BatchNormalization trained as one op (architecture/fused_batch_norm.py): 1.8x the
    # images/s of Keras' own + XLA on the fashion preset (benchmarks/train.py).
    fused_batch_norm: bool = True

    def __post_init__(self) -> None:
        available = TRAIN_SET_IMAGES - self.validation_size
        if self.train_images is None:
            object.__setattr__(self, "train_images", available)
        elif not 1 <= self.train_images <= available:
            raise ValueError(
                f"train_images={self.train_images!r} is invalid: allowed an integer from 1 to "
                f"{available:,} (the training images not held out for validation)"
            )


def saved_settings(saved: dict) -> dict:
    """A checkpoint's or model card's settings in today's names: before `train_images`, the
    count was `train_limit`, 0 meaning all the images not held out."""
    upgraded = dict(saved)
    if "train_limit" in upgraded:
        limit = upgraded.pop("train_limit")
        held_out = upgraded.get("validation_size", VALIDATION_IMAGES)
        upgraded.setdefault("train_images", limit or TRAIN_SET_IMAGES - held_out)
    return upgraded


# How a step is computed, not what is trained (the same up to rounding): a run may resume
# with other choices, for one that is faster where it resumes.
KERNEL_CHOICES = ("xla", "fused_batch_norm")


def resume_differences(saved: dict, settings: TrainSettings) -> tuple[list[str], dict]:
    """How a checkpoint's `saved` settings differ from `settings`: the differences that
    forbid resuming ("name=saved (asked: value)") and the kernel choices that change
    ({name: [saved, asked]}, None where the checkpoint predates the choice)."""
    refused, kernels = [], {}
    for name, value in dataclasses.asdict(settings).items():
        if saved.get(name) == value:
            continue
        if name in KERNEL_CHOICES:
            kernels[name] = [saved.get(name), value]
        else:
            refused.append(f"{name}={saved.get(name)!r} (asked: {value!r})")
    return refused, kernels


def kernel_note(meta: dict) -> str | None:
    """One sentence for the model card when a run resumed on other kernel choices."""
    changes = meta.get("kernel_changes")
    if not changes:
        return None
    parts = [
        f"after epoch {change['after_epoch']}: "
        + ", ".join(f"{name} {old} -> {new}" for name, (old, new) in change["changed"].items())
        for change in changes
    ]
    return f"Resumed on other kernels ({'; '.join(parts)}): the same training up to rounding."


def normalise(images):
    """uint8 images (N, 28, 28[, 1]) -> float32 (N, 28, 28, 1), standardised as in training."""
    import tensorflow as tf

    images = tf.cast(images, tf.float32) / 255.0
    if images.shape.rank == 3:
        images = images[..., None]
    return (images - PIXEL_MEAN) / PIXEL_STD


def augment_batch(images, seed, padding: int, erase_probability: float):
    """A batch (N, H, W, C), each image shifted by up to `padding` px (a random crop after
    zero padding), flipped left-right half the time, and with a random rectangle erased
    (Zhong et al. 2017: 2-30% of the area set to the mean, 0) with `erase_probability`.

    Stateless: `seed` (two integers) fixes every draw. One vectorised pass per batch: the
    per-image version spent about half of each training step in tf.data on 2 cores.
    """
    import tensorflow as tf

    count, size = tf.shape(images)[0], tf.shape(images)[1]
    shift_seed, flip_seed, erase_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, num=3)
    )
    # Crop: where each image's window starts in the padded batch (0 .. 2 * padding).
    offsets = tf.random.stateless_uniform(
        [count, 2], shift_seed, minval=0, maxval=2 * padding + 1, dtype=tf.int32
    )
    padded = tf.pad(images, [[0, 0], [padding, padding], [padding, padding], [0, 0]])
    window = tf.range(size)[None, :]
    images = tf.gather(padded, offsets[:, :1] + window, axis=1, batch_dims=1)
    images = tf.gather(images, offsets[:, 1:] + window, axis=2, batch_dims=1)
    flip = tf.random.stateless_uniform([count], flip_seed) < 0.5
    images = tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)

    area, ratio, top, left, gate = tf.unstack(
        tf.random.stateless_uniform([5, count], erase_seed), num=5
    )
    area = 0.02 + 0.28 * area
    aspect = tf.exp((ratio - 0.5) * 2.0 * np.log(3.0))  # 1/3 to 3
    side = tf.cast(size, tf.float32)
    height = tf.clip_by_value(tf.round(side * tf.sqrt(area * aspect)), 1.0, side)
    width = tf.clip_by_value(tf.round(side * tf.sqrt(area / aspect)), 1.0, side)
    top = tf.floor(top * (side - height + 1.0))
    left = tf.floor(left * (side - width + 1.0))
    positions = tf.cast(tf.range(size), tf.float32)

    def spans(start, length):  # (N, size): inside [start, start + length)
        return (positions >= start[:, None]) & (positions < (start + length)[:, None])

    inside = spans(top, height)[:, :, None, None] & spans(left, width)[:, None, :, None]
    erase = inside & (gate < erase_probability)[:, None, None, None]
    return tf.where(erase, tf.zeros_like(images), images)


def training_dataset(split: Split, settings: TrainSettings, epoch: int):
    """One epoch of augmented, shuffled batches; the same (seed, epoch) gives the same data,
    so a resumed run sees exactly what an uninterrupted one would have seen."""
    import tensorflow as tf

    count, batch = len(split.labels), settings.batch_size
    order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=[settings.seed, epoch])
    images = tf.constant(split.images)
    labels = tf.one_hot(split.labels, len(CLASS_NAMES))

    def batch_of(step):
        # A static batch size: with an unknown one the traced train step ran ~40% slower.
        chosen = tf.ensure_shape(order[step * batch : (step + 1) * batch], [batch])
        seed = tf.stack([tf.cast(settings.seed * 1_000_003 + epoch, tf.int64), step])
        augmented = augment_batch(
            normalise(tf.gather(images, chosen)),
            seed,
            settings.crop_padding,
            settings.erase_probability,
        )
        return augmented, tf.gather(labels, chosen)

    return (
        tf.data.Dataset.range(count // batch)  # the remainder is left out, as before
        .map(batch_of, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def evaluation_dataset(split: Split, batch_size: int = 256):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(
        (normalise(split.images), tf.one_hot(split.labels, len(CLASS_NAMES)))
    ).batch(batch_size)


class Checkpoint:
    """Model and optimizer state plus the epoch log, in one directory, each file atomic."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.state_path = self.run_dir / "state.npz"
        self.meta_path = self.run_dir / "progress.json"
        self.log_path = self.run_dir / "log.csv"

    def exists(self) -> bool:
        return self.meta_path.is_file() and self.state_path.is_file()

    def epochs_done(self) -> int:
        """How many epochs the checkpoint holds (0 without one, or an unreadable one)."""
        if not self.exists():
            return 0
        try:
            return int(json.loads(self.meta_path.read_text())["epochs_done"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def save(self, model, optimizer, meta: dict) -> None:
        import io

        arrays = {f"model_{i}": w for i, w in enumerate(model.get_weights())}
        arrays.update({f"optimizer_{i}": np.asarray(v) for i, v in enumerate(optimizer.variables)})
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_atomically(self.state_path, buffer.getvalue())
        write_atomically(self.log_path, _history_csv(meta["history"]).encode())
        write_atomically(self.meta_path, json.dumps(meta, indent=1).encode())  # commit point

    def restore(self, model, optimizer) -> dict:
        meta = json.loads(self.meta_path.read_text())
        with np.load(self.state_path) as state:
            model.set_weights([state[f"model_{i}"] for i in range(len(model.weights))])
            optimizer.build(model.trainable_variables)
            for i, variable in enumerate(optimizer.variables):
                variable.assign(state[f"optimizer_{i}"])
        return meta


def _history_csv(history: list[dict]) -> str:
    if not history:
        return ""
    columns = list(history[0])
    lines = [",".join(columns)] + [",".join(str(row[c]) for c in columns) for row in history]
    return "\n".join(lines) + "\n"


def command_line() -> str:
    """This process's command as a person would type it (`python -m densenet_demo ...`)."""
    program = "python -m densenet_demo" if sys.argv[0].endswith("__main__.py") else sys.argv[0]
    return " ".join([program, *sys.argv[1:]])


def compile_model(
    config: DenseNetConfig, settings: TrainSettings, steps_per_epoch: int, replicas: int = 1
):
    """The model and its optimizer, compiled for `settings`; XLA only on one device (under
    MirroredStrategy, XLA cannot reach the other replicas' variables)."""
    import keras

    from ..architecture.keras_model import build_model

    keras.utils.set_random_seed(settings.seed)
    model = build_model(config, name=settings.name, fused_batch_norm=settings.fused_batch_norm)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=settings.learning_rate / 10,
        warmup_target=settings.learning_rate,
        warmup_steps=steps_per_epoch,
        decay_steps=max(1, (settings.epochs - 1) * steps_per_epoch),
    )
    optimizer = keras.optimizers.SGD(
        schedule, momentum=0.9, nesterov=True, weight_decay=settings.weight_decay
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=settings.label_smoothing),
        metrics=["accuracy"],
        jit_compile=settings.xla and replicas == 1,
    )
    return model, optimizer


class _Stopped(Exception):
    """Raised out of `fit` by a cancel (Keras' own stop_training would validate first)."""


def _stop_callback(should_stop):
    """A Keras callback ending `fit` after the step during which `should_stop()` turned true:
    a cancel takes effect within one training step."""
    import keras

    class StopWhen(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if should_stop():
                raise _Stopped

    return StopWhen()


def epoch_line(row: dict, epochs: int, seconds_left: float) -> str:
    """One epoch's figures in one line (the CLI's log and the Train tab's status)."""
    figures = ", ".join(
        f"{name} {row[name]:.4f}"
        for name in ("loss", "accuracy", "val_loss", "val_accuracy")
        if row.get(name) is not None
    )
    left = f"about {seconds_left / 60:.0f} min left" if seconds_left >= 90 else "under 2 min left"
    if row["epoch"] == epochs:
        left = "done"
    speed = f"{row['images_per_second']:.0f} img/s"
    return f"epoch {row['epoch']}/{epochs}: {figures} ({speed}); {left}"


def train(
    config: DenseNetConfig,
    settings: TrainSettings,
    run_dir: Path,
    data_dir: str | None = None,
    resume: bool = False,
    log=print,
    callbacks: tuple = (),
    should_stop=None,
    on_epoch=None,
):
    """Train until `settings.epochs` are done, checkpointing after every epoch.

    With `resume`, continues from the last completed epoch in `run_dir`; without it, refuses
    to overwrite an existing checkpoint. `callbacks` (Keras callbacks) see every step;
    `on_epoch(row)` gets each finished epoch's figures. When `should_stop()` turns true the
    run ends within one step, the unfinished epoch dropped and the model holding the last
    checkpoint's weights (`epochs_done` then says how many). Returns (model, progress dict).
    """
    data = load_fashion_mnist(data_dir)
    train_split, validation = train_validation_split(
        data["train"], settings.validation_size, settings.seed
    )
    train_split = Split(
        train_split.images[: settings.train_images], train_split.labels[: settings.train_images]
    )
    steps = len(train_split.labels) // settings.batch_size
    if steps < 1:
        raise ValueError(
            f"batch_size={settings.batch_size} exceeds the "
            f"{len(train_split.labels)} training images"
        )
    strategy = distribution_strategy()
    log(f"training on {strategy.num_replicas_in_sync} device(s)")
    with strategy.scope():
        model, optimizer = compile_model(config, settings, steps, strategy.num_replicas_in_sync)
    checkpoint = Checkpoint(checkpoint_dir(run_dir, strategy))
    meta = {
        "config": config.to_dict(),
        "settings": dataclasses.asdict(settings),
        "epochs_done": 0,
        "train_seconds": 0.0,
        "history": [],
        "command": command_line(),
    }
    if checkpoint.exists():
        if not resume:
            raise ValueError(
                f"{run_dir} already holds a checkpoint: pass --resume to continue "
                "it, or choose another --run-dir"
            )
        with strategy.scope():
            meta = checkpoint.restore(model, optimizer)
        meta["settings"] = saved_settings(meta["settings"])
        refused, kernels = resume_differences(meta["settings"], settings)
        if meta["config"] != config.to_dict():
            refused.insert(0, "another configuration")
        if refused:
            raise ValueError(
                f"{run_dir} was started with other options: {'; '.join(refused)}; "
                "resume it with the same options"
            )
        changed = "".join(f"; {name} {old} -> {new}" for name, (old, new) in kernels.items())
        if kernels:  # kept in the run's record: which epochs ran on which kernels
            meta["settings"] = dataclasses.asdict(settings)
            meta.setdefault("kernel_changes", []).append(
                {"after_epoch": meta["epochs_done"], "changed": kernels}
            )
        log(f"resuming {run_dir} after epoch {meta['epochs_done']}/{settings.epochs}{changed}")
    validation_data = evaluation_dataset(validation)
    stopper = _stop_callback(should_stop) if should_stop is not None else None
    for epoch in range(meta["epochs_done"], settings.epochs):
        if should_stop is not None and should_stop():
            break
        started = time.perf_counter()
        try:
            result = model.fit(
                training_dataset(train_split, settings, epoch),
                epochs=epoch + 1,
                initial_epoch=epoch,
                validation_data=validation_data,
                shuffle=False,  # the dataset is shuffled already, statelessly (Keras warned)
                callbacks=[*callbacks, *([stopper] if stopper else [])],
                # A progress bar on a terminal; in a log, only the line per epoch below.
                verbose="auto" if sys.stdout.isatty() else 0,
            )
        except _Stopped:
            if meta["epochs_done"]:  # back to the last whole epoch
                with strategy.scope():
                    checkpoint.restore(model, optimizer)
            break
        seconds = time.perf_counter() - started
        row = {
            "epoch": epoch + 1,
            **{k: round(float(v[-1]), 6) for k, v in result.history.items()},
            "learning_rate": float(optimizer.learning_rate),
            "seconds": round(seconds, 1),
            "images_per_second": round(steps * settings.batch_size / seconds, 1),
        }
        meta["history"].append(row)
        meta["epochs_done"] = epoch + 1
        meta["train_seconds"] += seconds
        checkpoint.save(model, optimizer, meta)
        if on_epoch is not None:
            on_epoch(row)
        recent = [row["seconds"] for row in meta["history"][-3:]]  # a resume may be faster
        remaining = (settings.epochs - epoch - 1) * sum(recent) / len(recent)
        log(epoch_line(row, settings.epochs, remaining))
    return model, meta
