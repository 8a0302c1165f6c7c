"""The published DenseNets the Explore tab's map places a configuration among.

Their figures live in `published_densenets.json`, each with its source. Where a model's
architecture is known (a preset, or the paper's CIFAR rule), its parameters and MACs are
computed from it here, like the current configuration's, and the published ones are checked
against them by the tests.
"""

from __future__ import annotations

import functools
import json
import math
from importlib import resources
from typing import Any, NamedTuple

from .config import DenseNetConfig
from .presets import PRESETS
from .summary import summarize

DATA_FILE = "published_densenets.json"


class Family(NamedTuple):
    """Models trained at one input size: MACs only compare at the same size."""

    key: str
    title: str
    input_shape: tuple[int, int, int]
    metric: str  # what the models' labels give: "top-1 accuracy", "C10+/C100+ error"


class PublishedModel(NamedTuple):
    """One published model, placed by its computed trainable parameters and MACs."""

    name: str
    source: str  # "Keras", "torchvision" or "paper"
    family: str
    config: DenseNetConfig
    params: int
    macs: int
    accuracy: str  # the label on the map, in % ("75.0%", "4.51/22.27%"): the family's metric
    published: dict[str, Any]
    reference: str


def paper_cifar_config(
    depth: int, growth_rate: int, bc: bool, num_classes: int = 10
) -> DenseNetConfig:
    """The paper's CIFAR DenseNet of depth L: three blocks of (L − 4) / 3 layers, or (L − 4) / 6
    with bottlenecks (-BC: a 1×1 and a 3×3 conv each, θ = 0.5); a 3×3 stem conv of 16
    channels, 2k for -BC (Huang et al. 2017, "Implementation Details"). `ValueError` if no
    such L."""
    per_block = 6 if bc else 3
    if (
        isinstance(depth, bool)
        or not isinstance(depth, int)
        or depth <= 4
        or (depth - 4) % per_block
    ):
        raise ValueError(
            f"depth={depth!r} is invalid: allowed L with L − 4 a positive multiple of {per_block}"
        )
    return DenseNetConfig(
        input_shape=(32, 32, 3),
        num_classes=num_classes,
        growth_rate=growth_rate,
        block_layers=((depth - 4) // per_block,) * 3,
        bottleneck=bc,
        compression=0.5 if bc else 1.0,
        init_features=2 * growth_rate if bc else 16,
        stem="cifar",
    )


def _accuracy(published: dict[str, Any]) -> str:
    if "top1_accuracy" in published:
        return f"{published['top1_accuracy']:.1f}%"
    return f"{published['c10_error']:.2f}/{published['c100_error']:.2f}%"


@functools.cache
def _data() -> tuple[tuple[Family, ...], tuple[PublishedModel, ...]]:
    data = json.loads(resources.files(__package__).joinpath(DATA_FILE).read_text("utf-8"))
    families, models = [], []
    for key, family in data["families"].items():
        families.append(
            Family(key, family["title"], tuple(family["input_shape"]), family["metric"])
        )
        for entry in family["models"]:
            if "preset" in entry:
                config = PRESETS[entry["preset"]]
            else:
                config = paper_cifar_config(**entry["paper_cifar"])
            summary = summarize(config)
            models.append(
                PublishedModel(
                    entry["name"],
                    entry["source"],
                    key,
                    config,
                    summary.trainable_params,
                    summary.macs,
                    _accuracy(entry["published"]),
                    entry["published"],
                    entry["reference"],
                )
            )
    return tuple(families), tuple(models)


def families() -> tuple[Family, ...]:
    """The input sizes the published models come in (ImageNet's, CIFAR's)."""
    return _data()[0]


def published_models() -> tuple[PublishedModel, ...]:
    """Every published model of the data file, in its order (read and summarised once)."""
    return _data()[1]


def nearest_family(config: DenseNetConfig) -> Family:
    """The family whose input area is nearest to `config`'s on a log scale: a configuration's
    MACs are only comparable with models of about its input size."""
    area = config.input_shape[0] * config.input_shape[1]
    return min(
        families(),
        key=lambda family: abs(math.log(area / (family.input_shape[0] * family.input_shape[1]))),
    )
