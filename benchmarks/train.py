"""Training throughput: the trainer against the ones it replaced, side by side.

Run: nice python benchmarks/train.py [--images 6400] [--rounds 2]
     [--levers | --profile | --accuracy]

Same model, data, batch size (128) and augmentation (2-px random crop, flip, random erasing)
for every row; each row is timed on whole epochs after a warm-up epoch, the rows taking turns
(round-robin) so that a busy machine slows them alike. Rows, on the fashion preset and a small
configuration:
- per-example augmentation with Keras' BatchNormalization: the trainer the issue measured
  (a tf.data map per image), kept here as the baseline;
- per-batch augmentation, Keras' BatchNormalization, XLA: the trainer before the fused one;
- per-batch augmentation, fused BatchNormalization, no XLA: the trainer now;
- the same with XLA;
- no augmentation, static batches: the ceiling for this model.
With --levers, on the fashion preset: the trainer against itself at batch 64 and 256 and with
mixed bfloat16 (without and with XLA); then the parts of a step alone: the augmented input
pipeline without a model, and the forward pass. With --profile: the seconds of each
TensorFlow op over 10 steps, with Keras' BatchNormalization and with the fused one. With
--accuracy: the trainer's validation accuracy after the same epochs with each, and with the
fused one at batch 256.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

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


def static_batches(split: Split, settings: TrainSettings, epoch: int):
    del epoch
    return (
        tf.data.Dataset.from_tensor_slices(
            (normalise(split.images), tf.one_hot(split.labels, len(CLASS_NAMES)))
        )
        .batch(settings.batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


class Row(NamedTuple):
    make: Callable  # (split, settings, epoch) -> the epoch's data
    xla: bool = False
    batch_size: int = 128
    policy: str = "float32"  # Keras dtype policy
    fused: bool = True  # BatchNormalization as one op (architecture/fused_batch_norm.py)


BEFORE = "per-example augmentation, Keras BN (the issue's trainer)"
TRAINER = "per-batch augmentation, fused BN (the trainer now)"
ROWS = {
    BEFORE: Row(per_example_dataset, fused=False),
    "per-batch augmentation, Keras BN, XLA (the last trainer)": Row(
        training_dataset, xla=True, fused=False
    ),
    TRAINER: Row(training_dataset),
    "the same + XLA": Row(training_dataset, xla=True),
    "no augmentation, static batches, fused BN": Row(static_batches),
}
# --levers: the trainer's other levers, each against the trainer, on the fashion preset.
LEVERS = {
    TRAINER: ROWS[TRAINER],
    "the trainer, batch 256": Row(training_dataset, batch_size=256),
    "the trainer, batch 64": Row(training_dataset, batch_size=64),
    "the trainer, mixed bfloat16": Row(training_dataset, policy="mixed_bfloat16"),
    "the trainer, mixed bfloat16 + XLA": Row(training_dataset, xla=True, policy="mixed_bfloat16"),
}


def epoch_seconds(model, data) -> float:
    started = time.perf_counter()
    model.fit(data, epochs=1, verbose=0, shuffle=False)
    return time.perf_counter() - started


def measure(config, split: Split, rounds: int, rows: dict) -> dict[str, float]:
    """Images per second of each row: the median over `rounds` epochs after a warm-up."""
    import keras

    models, settings = {}, {}
    for name, row in rows.items():
        settings[name] = TrainSettings(
            name="bench",
            epochs=rounds + 1,
            batch_size=row.batch_size,
            xla=row.xla,
            fused_batch_norm=row.fused,
        )
        keras.mixed_precision.set_global_policy(row.policy)
        steps = len(split.labels) // row.batch_size
        model, _ = compile_model(config, settings[name], steps)
        keras.mixed_precision.set_global_policy("float32")
        epoch_seconds(model, row.make(split, settings[name], 0))  # warm-up: tracing
        models[name] = model
    seconds: dict[str, list[float]] = {name: [] for name in rows}
    for epoch in range(1, rounds + 1):
        for name, row in rows.items():
            data = row.make(split, settings[name], epoch)
            seconds[name].append(epoch_seconds(models[name], data))
    return {
        name: len(split.labels)
        // row.batch_size
        * row.batch_size
        / statistics.median(seconds[name])
        for name, row in rows.items()
    }


def where_the_time_goes(config, split: Split) -> dict[str, float]:
    """Images per second of the parts of a training step, each alone: the augmented input
    pipeline (no model) and the forward pass (inference)."""
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


def op_profile(config, split: Split, fused: bool, steps: int = 10) -> dict[str, float]:
    """Seconds of each TensorFlow op type over `steps` training steps (no XLA, so that the
    ops stay visible), summed over the compute threads, from TensorFlow's profiler trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    settings = TrainSettings(name="bench", epochs=2, xla=False, fused_batch_norm=fused)
    images = Split(split.images[: steps * 128], split.labels[: steps * 128])
    model, _ = compile_model(config, settings, steps)
    model.fit(
        static_batches(images, settings, 0), epochs=1, verbose=0, shuffle=False
    )  # warm-up: tracing
    with tempfile.TemporaryDirectory() as folder:
        tf.profiler.experimental.start(folder)
        model.fit(static_batches(images, settings, 0), epochs=1, verbose=0, shuffle=False)
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        space.ParseFromString(next(Path(folder).rglob("*.xplane.pb")).read_bytes())
    seconds: Counter[str] = Counter()
    for plane in space.planes:
        for line in plane.lines:
            if line.name.startswith("tf_Compute"):  # the executor's threads running the ops
                for event in line.events:
                    op = plane.event_metadata[event.metadata_id].name.split(":")[-1]
                    seconds[op] += event.duration_ps / 1e12
    seconds.pop("Process", None)  # the executor's own span around the ops
    return dict(seconds.most_common())


def print_profile(config, split: Split) -> None:
    for fused in (False, True):
        seconds = op_profile(config, split, fused)
        total = sum(seconds.values())
        kind = "fused" if fused else "Keras'"
        print(f"  fashion, {kind} BatchNormalization: {total:.2f} s of ops in 10 steps")
        for op, spent in list(seconds.items())[:12]:
            print(f"    {op:40s} {spent:6.2f} s  {spent / total:6.1%}")


ACCURACY_ROWS = {  # label: the trainer's settings that differ from its defaults
    "Keras BN + XLA": {"fused_batch_norm": False, "xla": True},
    "fused BN": {},
    "fused BN, batch 256, lr x2": {"batch_size": 256, "learning_rate": 0.2},
}


def same_epochs_accuracy(config, images: int, epochs: int) -> None:
    """The trainer itself (`trainer.train`, validation on the 5,000 held-out images) from the
    same seed with Keras' BatchNormalization + XLA (the last trainer), with the fused one (the
    trainer now), and with batch 256 at twice the learning rate: validation accuracy after
    each epoch, and images/s (validation included)."""
    from densenet_demo.training.trainer import train

    for label, changes in ACCURACY_ROWS.items():
        settings = TrainSettings(
            name="bench",
            epochs=epochs,
            train_images=images,
            erase_probability=0.0 if epochs < 10 else TrainSettings.erase_probability,
            **changes,
        )
        with tempfile.TemporaryDirectory() as run_dir:
            _, meta = train(config, settings, Path(run_dir), log=lambda *_: None)
        accuracies = " ".join(f"{row['val_accuracy']:.4f}" for row in meta["history"])
        speed = statistics.median(row["images_per_second"] for row in meta["history"])
        print(f"    {label:28s} validation accuracy by epoch: {accuracies}; {speed:.0f} images/s")


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6400, help="training images per epoch")
    parser.add_argument("--rounds", type=int, default=2, help="timed epochs per row")
    parser.add_argument(
        "--levers",
        action="store_true",
        help="the trainer's other levers (batch size, mixed precision) and the parts of a "
        "step alone, on the fashion preset",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="where a training step's time goes, by TensorFlow op, with Keras' and the fused "
        "BatchNormalization, on the fashion preset",
    )
    parser.add_argument(
        "--accuracy",
        action="store_true",
        help="the same epochs of the trainer with Keras' and the fused BatchNormalization, "
        "and at batch 256: validation accuracy (fashion: 10,000 images x 3 epochs; small: "
        "20,000 x 3)",
    )
    args = parser.parse_args()
    if args.accuracy:
        print(f"{cpu_name()}, {os.cpu_count()} cores")
        for name, images in (("small (k=12, 4-4-4)", 20_000), ("fashion", 10_000)):
            print(f"  {name}, {images:,} images x 3 epochs, no random erasing:")
            same_epochs_accuracy(CONFIGS[name], images, 3)
        return
    train = load_fashion_mnist()["train"]
    split = Split(train.images[: args.images], train.labels[: args.images])
    print(f"{cpu_name()}, {os.cpu_count()} cores")
    if args.profile:
        print_profile(CONFIGS["fashion"], split)
        return
    print(f"{args.images:,} images; images/s, median of {args.rounds} epochs after a warm-up:")
    if args.levers:
        config = CONFIGS["fashion"]
        rates = measure(config, split, args.rounds, LEVERS)
        base = rates[TRAINER]
        for name, rate in rates.items():
            print(f"  fashion {name:50s} {rate:7.1f} images/s  {rate / base:5.2f}x")
        for name, rate in where_the_time_goes(config, split).items():
            print(f"  fashion {name:55s} {rate:7.1f} images/s")
        return
    for config_name, config in CONFIGS.items():
        rates = measure(config, split, args.rounds, ROWS)
        for name, rate in rates.items():
            ratio = rate / rates[BEFORE]
            print(f"  {config_name:20s} {name:58s} {rate:7.1f} images/s  {ratio:5.2f}x")


if __name__ == "__main__":
    main()
