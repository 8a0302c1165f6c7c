"""Server memory: the app's resident set size at start, after a warm-up, through 200 Keras
builds, and through 1,000 predictions.

Run: python benchmarks/memory.py   (DENSENET_WEIGHTS_DIR picks another weights folder)
The builds cycle through five presets from 0.15 M to 8 M parameters (article, fashion,
densenet-40, densenet-bc-100, densenet121): small-to-medium models, about 2 s each here.
The predictions are 1,000 of the real test images in tests/data, 4 callers at a time.
The warm-up (one build of each preset, 20 predictions of other test images) pays the one-time
costs first — TensorFlow loads and initialises much of itself lazily, on the first build — so
that what follows measures growth, not start-up.
Bound: at most 150 MiB above the warmed-up size (every call is a Gradio session, and the app
keeps the 500 latest at ~140 KB each; the rest is allocator slack).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx
import numpy as np
from PIL import Image

from densenet_demo.architecture.controls import preset_controls
from densenet_demo.inference.service import DEFAULT_MODEL

from app_server import call, start_app, upload

BUILD_MIX = ("article", "fashion", "densenet-40", "densenet-bc-100", "densenet121")
BUILDS, PREDICTIONS = 200, 1000
WARM_UP_PREDICTIONS = 20
BUILDS_REPORT_EVERY, PREDICTIONS_REPORT_EVERY = 50, 250
BOUND_MIB = 150


def resident_mib(pid: int) -> float:
    """VmRSS of process `pid` in MiB (read from /proc: no psutil needed)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"process {pid} has no VmRSS")


def report(stage: str, pid: int, started: float) -> float:
    """Print and return the server's RSS now."""
    mib = resident_mib(pid)
    print(
        f"{stage:28s} server RSS {mib:7,.0f} MiB  ({time.perf_counter() - started:5.0f} s)",
        flush=True,
    )
    return mib


def build(http: httpx.Client, url: str, name: str) -> None:
    result = call(http, url, "build_keras", list(preset_controls(name).values()))
    if not result[0].startswith("AGREE"):
        sys.exit(f"a build of {name} disagreed: {result[0][:200]}")


def build_all(url: str, pid: int, started: float) -> None:
    with httpx.Client(timeout=600) as http:
        for number in range(1, BUILDS + 1):
            build(http, url, BUILD_MIX[(number - 1) % len(BUILD_MIX)])
            if number % BUILDS_REPORT_EVERY == 0:
                report(f"after {number} builds", pid, started)


def image_files(folder: Path) -> list[Path]:
    """The test images as PNG files: the first PREDICTIONS for the run, the next few for the
    warm-up."""
    sample = np.load(ROOT / "tests" / "data" / "fashion-test-sample.npz")["images"]
    paths = []
    for index, image in enumerate(sample[: PREDICTIONS + WARM_UP_PREDICTIONS]):
        paths.append(folder / f"test-{index}.png")
        Image.fromarray(image).save(paths[-1])
    return paths


def predict(url: str, path: Path) -> None:
    with httpx.Client(timeout=120) as http:
        call(http, url, "predict", [upload(http, url, path), 5, DEFAULT_MODEL])


def warm_up(url: str, paths: list[Path]) -> None:
    with httpx.Client(timeout=600) as http:
        for name in BUILD_MIX:
            build(http, url, name)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda path: predict(url, path), paths))


def predict_all(url: str, pid: int, started: float, paths: list[Path]) -> float:
    with ThreadPoolExecutor(4) as pool:
        for done in range(PREDICTIONS_REPORT_EVERY, PREDICTIONS + 1, PREDICTIONS_REPORT_EVERY):
            batch = paths[done - PREDICTIONS_REPORT_EVERY : done]
            list(pool.map(lambda path: predict(url, path), batch))
            mib = report(f"after {done:,} predictions", pid, started)
    return mib


def main() -> None:
    server, url = start_app()
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as folder:
            paths = image_files(Path(folder))
            at_start = report("at start", server.pid, started)
            warm_up(url, paths[PREDICTIONS:])
            warm = report("after the warm-up", server.pid, started)
            build_all(url, server.pid, started)
            at_end = predict_all(url, server.pid, started, paths[:PREDICTIONS])
        print(
            f"growth since the warm-up: {at_end - warm:+,.0f} MiB (bound: +{BOUND_MIB} MiB); "
            f"since start: {at_end - at_start:+,.0f} MiB"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
