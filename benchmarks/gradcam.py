"""Grad-CAM speed per request: the first call (which traces the gradient model) and the median
of later calls, beside one compiled forward pass, for the Fashion model and DenseNet-121.

Run: python benchmarks/gradcam.py   (random weights: the speed does not depend on them)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from densenet_demo.architecture.keras_model import build_model
from densenet_demo.architecture.presets import PRESETS
from densenet_demo.inference.gradcam import default_layer_name, gradcam, overlay

from timing import median_ms


def measure(name: str, repeats: int) -> None:
    import tensorflow as tf
    from PIL import Image

    config = PRESETS[name]
    model = build_model(config, name=name)
    image = np.random.default_rng(0).normal(size=config.input_shape).astype(np.float32)
    started = time.perf_counter()
    heat = gradcam(model, image, 0)
    first = (time.perf_counter() - started) * 1e3
    forward = tf.function(lambda x: model(x, training=False))
    upload = Image.new("RGB", (1024, 768), (200, 180, 160))
    print(f"{name} {config.input_shape}: heat map {heat.shape} from {default_layer_name(model)!r}")
    timings = {
        "first Grad-CAM (traces)": first,
        "Grad-CAM": median_ms(lambda: gradcam(model, image, 0), repeats, warmup=1),
        "compiled forward": median_ms(lambda: forward(image[None]), repeats, warmup=1),
        "overlay on a 1024x768 upload": median_ms(lambda: overlay(upload, heat, 0.5), 20, warmup=1),
    }
    for label, milliseconds in timings.items():
        print(f"  {label:30} {milliseconds:8.1f} ms")


if __name__ == "__main__":
    measure("fashion", 50)
    measure("densenet121", 10)
