"""Named DenseNets as data: one `DenseNetConfig` per name, plus what the UI says about each."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import NamedTuple

from .config import DenseNetConfig, short_repr


class PresetInfo(NamedTuple):
    """What a preset is and what it is known to reach (paper figures, for the UI)."""

    title: str
    note: str


def _keras_imagenet(block_layers: tuple[int, ...]) -> DenseNetConfig:
    return DenseNetConfig(block_layers=block_layers)


_CIFAR = dict(input_shape=(32, 32, 3), num_classes=10, growth_rate=12, stem="cifar")

PRESETS = MappingProxyType(
    {
        "densenet121": _keras_imagenet((6, 12, 24, 16)),
        "densenet169": _keras_imagenet((6, 12, 32, 32)),
        "densenet201": _keras_imagenet((6, 12, 48, 32)),
        "densenet264": _keras_imagenet((6, 12, 64, 48)),
        "densenet-bc-100": DenseNetConfig(block_layers=(16, 16, 16), init_features=24, **_CIFAR),
        "densenet-40": DenseNetConfig(
            block_layers=(12, 12, 12), bottleneck=False, compression=1.0, init_features=16, **_CIFAR
        ),
        # The shipped Fashion-MNIST model: a 7x7/2 stem halves 28x28 to 14x14, which trains
        # about 2.5x faster on a 2-core CPU than a full-resolution first block.
        "fashion": DenseNetConfig(
            input_shape=(28, 28, 1),
            num_classes=10,
            growth_rate=16,
            block_layers=(8, 8, 8),
            init_features=32,
            stem="article",
        ),
        # The seed article's two-block Keras model, its departures from the paper included.
        "article": DenseNetConfig(
            num_classes=10,
            block_layers=(4, 4),
            bn_size=1,
            stem="article",
            style="article",
            transition_features=128,
        ),
    }
)

PRESET_INFO = MappingProxyType(
    {
        "densenet121": PresetInfo(
            "DenseNet-121 (ImageNet)",
            "Identical to keras.applications.DenseNet121: top-1 error 25.0% "
            "(single crop, paper Table 3).",
        ),
        "densenet169": PresetInfo(
            "DenseNet-169 (ImageNet)",
            "Identical to keras.applications.DenseNet169: top-1 error 23.8%.",
        ),
        "densenet201": PresetInfo(
            "DenseNet-201 (ImageNet)",
            "Identical to keras.applications.DenseNet201: top-1 error 22.6%.",
        ),
        "densenet264": PresetInfo(
            "DenseNet-264 (ImageNet)",
            "The paper's deepest ImageNet model (Table 1); Keras ships no "
            "weights for it. Counted the paper's way it has 265 layers "
            "(1 + 2·130 + 3 + 1), not 264.",
        ),
        "densenet-bc-100": PresetInfo(
            "DenseNet-BC (L=100, k=12), CIFAR",
            "Bottleneck + compression θ=0.5: 4.51% error on C10+ (paper Table 2).",
        ),
        "densenet-40": PresetInfo(
            "DenseNet (L=40, k=12), CIFAR",
            "No bottleneck, no compression: 5.24% error on C10+ (paper Table 2).",
        ),
        "fashion": PresetInfo(
            "DenseNet-BC for Fashion-MNIST (this project's model)",
            "The architecture this project trains on Fashion-MNIST (28×28 "
            "grayscale) for the Classify tab; its 7×7/2 stem halves the input "
            "so training is practical on a 2-core CPU.",
        ),
        "article": PresetInfo(
            "The article's model",
            'The Keras model of "DenseNet Architecture Explained with Code '
            "Examples\". It departs from the paper: its 1x1 'bottleneck' has k "
            "channels, not 4k, with no BN-ReLU before the 3x3 conv; every conv has "
            "a bias (BN follows, so it is redundant); the transition has a fixed "
            "128 channels instead of θ·m; no BN-ReLU before global pooling.",
        ),
    }
)


def preset_with(preset, overrides=None) -> DenseNetConfig:
    """Preset `preset` with the fields of `overrides` (a mapping, its JSON text, or None)
    changed; `ValueError` in one sentence naming what was wrong."""
    if not isinstance(preset, str) or preset not in PRESETS:
        raise ValueError(f"preset={short_repr(preset)} is unknown: allowed {', '.join(PRESETS)}")
    if isinstance(overrides, str) and overrides.strip():
        try:
            overrides = json.loads(overrides)
        except ValueError:
            raise ValueError(f"overrides={short_repr(overrides)} is not JSON") from None
    if overrides in (None, ""):
        overrides = {}
    if not isinstance(overrides, dict):
        raise ValueError(
            f"overrides={short_repr(overrides)} is invalid: allowed an object of "
            'configuration fields, e.g. {"growth_rate": 24}'
        )
    return DenseNetConfig.from_dict({**PRESETS[preset].to_dict(), **overrides})
