"""What a Train-tab job may be: the budget inputs (one spec for the layout, the API and the
checks), the hosting limits, a time estimate, and the configuration actually trained.

Pure and fast (no TensorFlow): the page calls it on every change to say what a click on Train
will do, and the job queue calls it again before a job starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..architecture.config import DenseNetConfig, check_integer, short_repr
from ..architecture.controls import Control
from ..architecture.geometry import final_spatial_size
from ..architecture.summary import Summary, summarize
from ..inference.model_inputs import FASHION_SIZE
from .data import CLASS_NAMES, TRAINING_IMAGES, VALIDATION_IMAGES
from .trainer import TrainSettings

TRAINING_VARIABLE = "DENSENET_TRAINING"  # "off": no Train tab, /train refuses
SPACE_VARIABLE = "SPACE_ID"  # set by Hugging Face Spaces
DATA_SHAPE = {"input_shape": (FASHION_SIZE, FASHION_SIZE, 1), "num_classes": len(CLASS_NAMES)}

TRAIN_IMAGES = Control(
    "train_images",
    "Training images",
    "radio",
    None,
    choices=(("5,000", 5_000), ("20,000", 20_000), (f"all {TRAINING_IMAGES:,}", TRAINING_IMAGES)),
    info=f"drawn from the {TRAINING_IMAGES:,} not held out for validation",
    default=20_000,
)
EPOCHS = Control("epochs", "Epochs", "slider", None, minimum=1, maximum=100, step=1, default=3)
TRAIN_BATCH_SIZE = Control(
    "train_batch_size",
    "Batch size",
    "radio",
    None,
    choices=(32, 64, 128, 256),
    default=128,
)
LEARNING_RATE = Control(
    "learning_rate",
    "Peak learning rate",
    "dropdown",
    None,
    choices=(0.02, 0.05, 0.1, 0.2, 0.4),
    info="SGD with Nesterov momentum: one epoch of warm-up, then cosine decay to 0",
    default=0.2,
    custom_value=True,
)
BUDGET_CONTROLS = (TRAIN_IMAGES, EPOCHS, TRAIN_BATCH_SIZE, LEARNING_RATE)

# Fitted to the trainer on the 2-core CPU this project trains on, fused BatchNormalization,
# no XLA (the first run's job, 0.95 ms a training image, and benchmarks/train.py's fashion
# row, 3.0 ms): a training image costs a fixed overhead plus its forward MACs at this rate
# (the backward pass included); validating an image costs about a third of that.
OVERHEAD_S_PER_IMAGE = 0.27e-3
TRAIN_MACS_PER_S = 13e9
START_S = 12  # worker start, data, model build and the first step's tracing
FINISH_S = 8  # the test set once, the converted model and the card
# Random erasing regularises long schedules; in a few epochs it only slows learning (the
# first run's 2 epochs: 82.4% validation accuracy with it, 83.2% without).
ERASE_FROM_EPOCHS = 10
ERASE_PROBABILITY = TrainSettings.erase_probability


class Budget(NamedTuple):
    """How much training a job gets."""

    train_images: int
    epochs: int
    batch_size: int
    learning_rate: float

    def settings(self, name: str) -> TrainSettings:
        """The trainer's settings for this budget, every other setting as the CLI's but random
        erasing, kept for schedules long enough to need it."""
        return TrainSettings(
            name=name,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            train_images=self.train_images,
            erase_probability=ERASE_PROBABILITY if self.epochs >= ERASE_FROM_EPOCHS else 0.0,
        )


def check_budget(values: Mapping[str, Any]) -> Budget:
    """The budget from the control values by name, each checked: `ValueError` names a bad
    one. Any image count from 1,000 to all (`TRAINING_IMAGES`) and batch size from 8 to 512
    is taken (API callers are not bound to the menus)."""
    rate = values[LEARNING_RATE.name]
    if isinstance(rate, str):
        with contextlib.suppress(ValueError):  # a typed value reaches the menu as text
            rate = float(rate)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 1e-5 <= rate <= 2:
        raise ValueError(
            f"learning_rate={short_repr(rate)} is invalid: allowed a number from 0.00001 to 2"
        )
    return Budget(  # (the fewest images allowed still fill the largest batch)
        check_integer(TRAIN_IMAGES.name, values[TRAIN_IMAGES.name], 1_000, TRAINING_IMAGES),
        check_integer(EPOCHS.name, values[EPOCHS.name], 1, int(EPOCHS.maximum)),
        check_integer(TRAIN_BATCH_SIZE.name, values[TRAIN_BATCH_SIZE.name], 8, 512),
        float(rate),
    )


DEFAULT_BUDGET = check_budget({control.name: control.default for control in BUDGET_CONTROLS})


@dataclasses.dataclass(frozen=True)
class TrainingLimits:
    """What this server lets a job be; each refusal is one sentence naming the limit."""

    enabled: bool = True
    max_params: int = 2_000_000
    max_image_epochs: int = TRAINING_IMAGES * 100  # training images x epochs
    max_minutes: float = 8 * 60  # wall time: a job is stopped (its epochs kept) past it
    max_queue: int = 8  # jobs waiting behind the one training

    def check(self, summary: Summary, budget: Budget) -> None:
        if not self.enabled:
            raise ValueError(f"training is turned off on this server ({TRAINING_VARIABLE}=off)")
        if summary.total_params > self.max_params:
            raise ValueError(
                f"{summary.total_params:,} parameters is over this server's limit of "
                f"{self.max_params:,}: choose a smaller configuration"
            )
        image_epochs = budget.train_images * budget.epochs
        if image_epochs > self.max_image_epochs:
            raise ValueError(
                f"{budget.train_images:,} images x {budget.epochs} epochs is over this "
                f"server's limit of {self.max_image_epochs:,} image-epochs"
            )
        minutes = estimate_seconds(summary, budget) / 60
        if minutes > self.max_minutes:
            raise ValueError(
                f"this job would take about {minutes:,.0f} min here, over this server's limit "
                f"of {self.max_minutes:g} min: fewer images or epochs, or a smaller model"
            )


# On a Hugging Face Space (shared hardware, anonymous users): small jobs only.
SPACE_LIMITS = TrainingLimits(
    max_params=500_000, max_image_epochs=TRAINING_IMAGES * 2, max_minutes=10, max_queue=2
)
_LIMIT_VARIABLES = {
    "max_params": "DENSENET_TRAIN_MAX_PARAMS",
    "max_image_epochs": "DENSENET_TRAIN_MAX_IMAGE_EPOCHS",
    "max_minutes": "DENSENET_TRAIN_MAX_MINUTES",
    "max_queue": "DENSENET_TRAIN_MAX_QUEUE",
}


def training_limits(environ: Mapping[str, str] = os.environ) -> TrainingLimits:
    """This server's limits: the defaults, stricter on a Space, each replaceable through its
    environment variable (`_LIMIT_VARIABLES`); `DENSENET_TRAINING=off` turns training off."""
    limits = SPACE_LIMITS if environ.get(SPACE_VARIABLE) else TrainingLimits()
    replaced = {}
    for field, variable in _LIMIT_VARIABLES.items():
        text = environ.get(variable, "").strip()
        if text:
            kind = type(getattr(limits, field))
            try:
                replaced[field] = kind(text)
            except ValueError:
                raise ValueError(f"{variable}={text!r} is not a number") from None
    enabled = environ.get(TRAINING_VARIABLE, "on").strip().lower() not in ("off", "0", "false")
    return dataclasses.replace(limits, enabled=enabled, **replaced)


def estimate_seconds(summary: Summary, budget: Budget) -> float:
    """About how long the job takes on the CPU this project trains on (other machines:
    faster or slower, never measured here)."""
    per_image = OVERHEAD_S_PER_IMAGE + summary.macs / TRAIN_MACS_PER_S
    validation = VALIDATION_IMAGES * per_image / 3
    # After the epochs, the mirror choice predicts the held-out images twice (as they are,
    # mirrored) before the test set is predicted once.
    finish = FINISH_S + 2 * validation
    return START_S + budget.epochs * (budget.train_images * per_image + validation) + finish


def fit_to_data(config: DenseNetConfig) -> DenseNetConfig:
    """`config` with Fashion-MNIST's input (28x28x1) and 10 classes; `ValueError` in one
    sentence when it cannot take a 28x28 input."""
    try:
        return dataclasses.replace(config, **DATA_SHAPE)
    except ValueError as error:
        raise ValueError(f"this configuration cannot train on Fashion-MNIST: {error}") from None


# The small variant offered when a configuration does not fit or would train too long: the
# person's layer choices (bottleneck, compression, style, dropout) kept, its size cut.
SMALL = {"stem": "article", "blocks": 3, "growth_rate": 12, "layers": 4, "init_features": 32}
SLOW_MINUTES = 15  # longer than this for the budget: the page offers the small variant


def small_variant(config: DenseNetConfig) -> DenseNetConfig:
    """A configuration like `config` that trains on Fashion-MNIST in minutes here: the
    7x7/2 stem, at most 3 blocks of at most 4 layers, k and the stem width capped."""
    layers = tuple(min(count, SMALL["layers"]) for count in config.block_layers)
    return dataclasses.replace(
        config,
        **DATA_SHAPE,
        stem=SMALL["stem"],
        block_layers=layers[: SMALL["blocks"]],
        growth_rate=min(config.growth_rate, SMALL["growth_rate"]),
        init_features=min(config.init_features, SMALL["init_features"]),
    )


def _too_many_halvings(config: DenseNetConfig) -> str:
    transitions = len(config.block_layers) - 1
    smallest = next(
        side
        for side in range(FASHION_SIZE, 4096)
        if final_spatial_size(config.stem, side, transitions) >= 1
    )
    return (
        f"its {config.stem!r} stem and {len(config.block_layers)} dense blocks need images of "
        f"at least {smallest}×{smallest} px, and Fashion-MNIST's are "
        f"{FASHION_SIZE}×{FASHION_SIZE}"
    )


class TrainingPlan(NamedTuple):
    """What a click on Train trains, and why, in words."""

    config: DenseNetConfig
    summary: Summary
    seconds: float  # the estimate
    variant_reason: str  # why the small variant replaces the configuration ("" if it does not)
    slow: bool  # the configuration fits the data but would train long (as_set trains it)


def plan_training(config: DenseNetConfig, budget: Budget, as_set: bool = False) -> TrainingPlan:
    """The configuration to train for `budget`: `config` on Fashion-MNIST's input and classes;
    the small variant instead when `config` cannot take a 28x28 input, or would take longer
    than `SLOW_MINUTES` unless `as_set` (the person asked for it as set)."""
    try:
        fitted, reason = fit_to_data(config), ""
    except ValueError:
        fitted, reason = None, _too_many_halvings(config)
    if fitted is not None:
        summary = summarize(fitted)
        seconds = estimate_seconds(summary, budget)
        if as_set or seconds <= SLOW_MINUTES * 60:
            return TrainingPlan(fitted, summary, seconds, "", seconds > SLOW_MINUTES * 60)
        reason = f"it would take about {seconds / 60:,.0f} min here"
    variant = small_variant(config)
    summary = summarize(variant)
    seconds = estimate_seconds(summary, budget)
    return TrainingPlan(variant, summary, seconds, reason, fitted is not None)
