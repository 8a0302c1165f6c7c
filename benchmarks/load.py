"""Load: 32 concurrent clients x 25 mixed requests against the app in its own process.

Run: python benchmarks/load.py   (DENSENET_WEIGHTS_DIR picks another weights folder)
Each client sends, in its own order, Explore updates (a preset with a random growth rate,
compression and batch size), predictions (a distinct real test image each) and, for every
fourth client, one Keras build (densenet121 or the smaller fashion model, alternately).
Prints the errors (target: none), latency p50/p99 per kind and the throughput; then the same
without the builds, to show what builds cost predictions.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
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

from app_server import CallFailed, call, run, start_app, upload

CLIENTS, REQUESTS_EACH = 32, 25
PREDICTIONS_EACH = 8  # every third request
EXPLORE_PRESETS = ("densenet121", "densenet169", "densenet-bc-100", "fashion", "article")
BUILD_PRESETS = ("densenet121", "fashion")


def plan(client: int, rng: random.Random, builds: bool) -> list[str]:
    """The kinds of request one client sends, in order (without builds: Explore instead)."""
    kinds = ["predict" if index % 3 == 1 else "explore" for index in range(REQUESTS_EACH)]
    where = rng.choice([index for index, kind in enumerate(kinds) if kind == "explore"])
    if builds and client % 4 == 0:
        kinds[where] = "build"
    return kinds


def explore_values(rng: random.Random) -> list:
    name = rng.choice(EXPLORE_PRESETS)
    values = {
        **preset_controls(name),
        "growth_rate": rng.randint(8, 48),
        "compression": rng.choice((0.25, 0.5, 0.75, 1.0)),
        "batch_size": rng.choice((1, 32, 256)),
    }  # the memory estimate's batch size
    return list(values.values())


def client_run(
    client: int, url: str, images: list[Path], builds: bool
) -> list[tuple[str, float, str]]:
    """(kind, seconds, error or '') for each of one client's requests."""
    rng = random.Random(client)
    results = []
    with httpx.Client(timeout=900) as http:
        for index, kind in enumerate(plan(client, rng, builds)):
            started = time.perf_counter()
            error = ""
            try:
                if kind == "explore":
                    run(http, url, "explore", explore_values(rng))
                elif kind == "predict":
                    image = upload(
                        http, url, images[(client * REQUESTS_EACH + index) % len(images)]
                    )
                    call(http, url, "predict", [image, rng.randint(1, 10), DEFAULT_MODEL])
                else:
                    name = BUILD_PRESETS[client // 4 % len(BUILD_PRESETS)]
                    report = call(http, url, "build_keras", list(preset_controls(name).values()))[0]
                    if not report.startswith("AGREE"):
                        error = f"build of {name} disagreed"
            except (CallFailed, httpx.HTTPError) as failure:
                error = str(failure) or type(failure).__name__
            results.append((kind, time.perf_counter() - started, error))
    return results


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def load_run(url: str, images: list[Path], builds: bool) -> None:
    """All clients at once; prints errors, latency per kind and throughput."""
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [
            result
            for results in pool.map(
                client_run, range(CLIENTS), [url] * CLIENTS, [images] * CLIENTS, [builds] * CLIENTS
            )
            for result in results
        ]
    elapsed = time.perf_counter() - started
    errors = [(kind, error) for kind, _, error in results if error]
    print(
        f"{'with' if builds else 'without'} Keras builds: {CLIENTS} clients x "
        f"{REQUESTS_EACH} requests = {len(results)} in {elapsed:.1f} s: "
        f"{len(results) / elapsed:.1f} requests/s, {len(errors)} errors",
        flush=True,
    )
    for kind, error in errors[:10]:
        print(f"  error ({kind}): {error[:300]}")
    seconds = defaultdict(list)
    for kind, took, error in results:
        if not error:
            seconds[kind].append(took)
    for kind, values in sorted(seconds.items()):
        print(
            f"  {kind:8s} {len(values):4d} ok   p50 {statistics.median(values) * 1e3:7.0f} ms"
            f"   p99 {percentile(values, 0.99) * 1e3:7.0f} ms"
            f"   max {max(values) * 1e3:7.0f} ms",
            flush=True,
        )


def main() -> None:
    sample = np.load(ROOT / "tests" / "data" / "fashion-test-sample.npz")["images"]
    server, url = start_app()
    try:
        with tempfile.TemporaryDirectory() as folder, httpx.Client(timeout=300) as http:
            images = []
            for index, image in enumerate(sample[: CLIENTS * PREDICTIONS_EACH + 1]):
                images.append(Path(folder) / f"test-{index}.png")
                Image.fromarray(image).save(images[-1])
            try:  # warm up, and make sure the model is there
                call(http, url, "predict", [upload(http, url, images[-1]), 5, DEFAULT_MODEL])
            except CallFailed as failure:
                sys.exit(f"predictions are unavailable: {failure}")
            load_run(url, images[:-1], builds=True)
            # The same clients again, builds replaced by Explore updates: what builds cost the
            # other requests.
            load_run(url, images[:-1], builds=False)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
