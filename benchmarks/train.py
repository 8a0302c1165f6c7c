"""Training throughput: the trainer's input pipeline against the one it replaced, side by side.

Run: nice python benchmarks/train.py [--images 6400] [--rounds 2] [--levers]

Same model, data, batch size (128) and augmentation (2-px random crop, flip, random erasing)
for every row; each row is timed on whole epochs after a warm-up epoch, the rows taking turns
(round-robin) so that a busy machine slows them alike. Rows:
- per-example augmentation: the trainer before this change (tf.data map per image), kept here
  as the baseline;
- per-batch augmentation: `trainer.training_dataset` (one vectorised map per batch);
- the same with XLA (`jit_compile=True`) for the train step: the trainer's default;
- no augmentation, static batches of in-memory arrays: the ceiling for this model;
- no augmentation, plain `model.fit(x, y)`: Keras batches the arrays itself, with an unknown
  batch dimension (as the issue's 315 images/s reference was measured).
With --levers, on the fashion preset: the trainer against itself at batch 64 and 256, with
mixed bfloat16, and without augmentation (XLA on); then the parts of a step alone: the
augmented input pipeline without a model, and the forward pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import tensorflow as tf

from densenet_demo import PRESETS
from densenet_demo.training.data import CLASS_NAMES, Split, load_fashion_mnist
from densenet_demo.training.trainer import (
    TrainSettings,
    compile_model,
    normalise,
    training_dataset,
)

CONFIGS = {
    "fashion": PRESETS["fashion"],
    "small (k=12, 4-4-4)": dataclasses.replace(
        PRESETS["fashion"], growth_rate=12, block_layers=(4, 4, 4)
    ),
}


def per_example_dataset(split: Split, settings: TrainSettings, epoch: int):
    """The trainer's pipeline before this change: the same augmentation, one image per map."""
    count = len(split.labels)
    order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=[settings.seed, epoch])
    images, labels = normalise(split.images), tf.one_hot(split.labels, len(CLASS_NAMES))
    padding, erase_probability = settings.crop_padding, settings.erase_probability

    def example(position):
        index = order[position]
        seed = tf.stack(
            [tf.cast(settings.seed * 1_000_003 + epoch, tf.int64), tf.cast(index, tf.int64)]
        )
        seeds = tf.random.experimental.stateless_split(seed, num=4)
        image = images[index]
        size = tf.shape(image)[0]
        padded = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
        image = tf.image.stateless_random_crop(padded, tf.shape(image), seeds[0])
        image = tf.image.stateless_random_flip_left_right(image, seeds[1])
        area, ratio, top, left, gate = tf.unstack(tf.random.stateless_uniform([5], seeds[2]))
        area = 0.02 + 0.28 * area
        aspect = tf.exp((ratio - 0.5) * 2.0 * np.log(3.0))
        side = tf.cast(size, tf.float32)
        height = tf.clip_by_value(tf.round(side * tf.sqrt(area * aspect)), 1.0, side)
        width = tf.clip_by_value(tf.round(side * tf.sqrt(area / aspect)), 1.0, side)
        top, left = tf.floor(top * (side - height + 1.0)), tf.floor(left * (side - width + 1.0))
        rows = tf.cast(tf.range(size), tf.float32)[:, None, None]
        cols = tf.cast(tf.range(size), tf.float32)[None, :, None]
        inside = (rows >= top) & (rows < top + height) & (cols >= left) & (cols < left + width)
        image = tf.where(inside & (gate < erase_probability), tf.zeros_like(image), image)
        return image, labels[index]

    return (
        tf.data.Dataset.range(count)
        .map(example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(settings.batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def plain_arrays(split: Split, settings: TrainSettings, epoch: int):
    del epoch
    return (
        normalise(split.images).numpy(),
        tf.one_hot(split.labels, len(CLASS_NAMES)).numpy(),
    )


def static_batches(split: Split, settings: TrainSettings, epoch: int):
    images, labels = plain_arrays(split, settings, epoch)
    return (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .batch(settings.batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


ROWS = {  # name: (data, XLA, batch size, Keras dtype policy)
    "per-example augmentation (before)": (per_example_dataset, False, 128, "float32"),
    "per-batch augmentation": (training_dataset, False, 128, "float32"),
    "per-batch augmentation + XLA (the trainer)": (training_dataset, True, 128, "float32"),
    "no augmentation, static batches": (static_batches, False, 128, "float32"),
    "no augmentation, plain model.fit(x, y)": (plain_arrays, False, 128, "float32"),
}
# --levers: the trainer's other levers, each against the trainer, on the fashion preset.
TRAINER = "per-batch augmentation + XLA (the trainer)"
LEVERS = {
    TRAINER: ROWS[TRAINER],
    "the trainer, batch 256": (training_dataset, True, 256, "float32"),
    "the trainer, batch 64": (training_dataset, True, 64, "float32"),
    "the trainer, mixed bfloat16": (training_dataset, True, 128, "mixed_bfloat16"),
    "no augmentation, static batches + XLA": (static_batches, True, 128, "float32"),
}


def epoch_seconds(model, data, batch_size: int) -> float:
    started = time.perf_counter()
    if isinstance(data, tuple):
        model.fit(*data, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    else:
        model.fit(data, epochs=1, verbose=0)
    return time.perf_counter() - started


def measure(config, split: Split, rounds: int, rows: dict) -> dict[str, float]:
    """Images per second of each row: the median over `rounds` epochs after a warm-up."""
    import keras

    models, settings = {}, {}
    for name, (make, xla, batch_size, policy) in rows.items():
        settings[name] = TrainSettings(
            name="bench", epochs=rounds + 1, batch_size=batch_size, xla=xla
        )
        keras.mixed_precision.set_global_policy(policy)
        steps = len(split.labels) // batch_size
        model, _ = compile_model(config, settings[name], steps)
        keras.mixed_precision.set_global_policy("float32")
        epoch_seconds(model, make(split, settings[name], 0), batch_size)  # warm-up: tracing
        models[name] = model
    seconds: dict[str, list[float]] = {name: [] for name in rows}
    for epoch in range(1, rounds + 1):
        for name, (make, _, batch_size, _) in rows.items():
            data = make(split, settings[name], epoch)
            seconds[name].append(epoch_seconds(models[name], data, batch_size))
    return {
        name: len(split.labels) // batch_size * batch_size / statistics.median(seconds[name])
        for name, (_, _, batch_size, _) in rows.items()
    }


def where_the_time_goes(config, split: Split) -> dict[str, float]:
    """Images per second of the parts of a training step, each alone: the augmented input
    pipeline (no model), the forward pass (inference), and a whole step without input work."""
    settings = TrainSettings(name="bench", epochs=2, batch_size=128)
    steps = len(split.labels) // settings.batch_size
    images = steps * settings.batch_size
    rates = {}
    for _ in training_dataset(split, settings, 0):  # warm-up
        pass
    started = time.perf_counter()
    for _ in training_dataset(split, settings, 1):
        pass
    rates["input pipeline alone (augmented batches, no model)"] = images / (
        time.perf_counter() - started
    )
    model, _ = compile_model(config, settings, steps)
    batches = static_batches(split, settings, 0)
    model.predict(batches, verbose=0)  # warm-up
    started = time.perf_counter()
    model.predict(batches, verbose=0)
    rates["forward pass alone (inference, no XLA)"] = images / (time.perf_counter() - started)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6400, help="training images per epoch")
    parser.add_argument("--rounds", type=int, default=2, help="timed epochs per row")
    parser.add_argument(
        "--levers",
        action="store_true",
        help="the trainer's other levers (batch size, mixed precision, XLA without "
        "augmentation) and where a step's time goes, on the fashion preset",
    )
    args = parser.parse_args()
    train = load_fashion_mnist()["train"]
    split = Split(train.images[: args.images], train.labels[: args.images])
    print(
        f"{args.images:,} images, {os.cpu_count()} CPU cores; images/s, median "
        f"of {args.rounds} epochs after a warm-up:"
    )
    if args.levers:
        config = CONFIGS["fashion"]
        rates = measure(config, split, args.rounds, LEVERS)
        base = rates[TRAINER]
        for name, rate in rates.items():
            print(f"  fashion {name:45s} {rate:7.1f} images/s  {rate / base:5.2f}x")
        for name, rate in where_the_time_goes(config, split).items():
            print(f"  fashion {name:55s} {rate:7.1f} images/s")
        return
    for config_name, config in CONFIGS.items():
        rates = measure(config, split, args.rounds, ROWS)
        before = rates["per-example augmentation (before)"]
        for name, rate in rates.items():
            print(f"  {config_name:20s} {name:40s} {rate:7.1f} images/s  {rate / before:5.2f}x")


if __name__ == "__main__":
    main()
