"""Load: 32 concurrent clients x 25 mixed requests against the app in its own process; or a
soak of 10,000.

Run: python benchmarks/load.py   (DENSENET_WEIGHTS_DIR picks another weights folder)
Each client sends, in its own order, Explore updates (a preset with a random growth rate,
compression and batch size), predictions (every other one of the same example picture that
everyone clicks, the others a distinct real test image each) and, for every fourth client,
one Keras build (densenet121 or the smaller fashion model, drawn at random). Prints the errors
(target: none), latency p50/p99 per kind and the throughput; then the same without the
builds, to show what builds cost predictions.

Soak: python benchmarks/load.py --soak [REQUESTS]   (default 10,000, 16 clients)
The same mix without builds, plus a Grad-CAM now and then, with the server's cache time
limit at 60 s. Prints the errors, the server's resident memory at the start (after one
request of each kind), its peak and its end, and the cache files older than the time limit
plus one cleanup interval once the run is over (target: none).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
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

from densenet_demo.architecture.controls import MEMORY_CONTROLS, preset_controls
from densenet_demo.inference.service import DEFAULT_MODEL

from app_server import CallFailed, call, run, start_app, upload

CLIENTS, REQUESTS_EACH = 32, 25
PREDICTIONS_EACH = 8  # every third request
SOAK_CLIENTS, SOAK_REQUESTS = 16, 10_000
SOAK_CACHE_TTL_S = 60
SOAK_MIX = {"explore": 0.5, "predict": 0.495, "explain": 0.005}  # a few Grad-CAMs
REPEATED = sorted((ROOT / "examples" / "fashion").glob("*.png"))[0]  # everyone's example
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
    """/explore's values in its order: a preset with a random growth rate and compression,
    and a random batch size, optimizer and memory size for the memory estimate."""
    values = preset_controls(rng.choice(EXPLORE_PRESETS))
    values.update(growth_rate=rng.randint(8, 48), compression=rng.choice((0.25, 0.5, 0.75, 1.0)))
    for control in MEMORY_CONTROLS:
        values[control.name] = (
            rng.choice((1, 32, 256)) if not control.choices else rng.choice(control.choices)[1]
        )
    return list(values.values())


def send(http: httpx.Client, url: str, kind: str, rng: random.Random, picture: Path) -> str:
    """One request of `kind` (explore, predict, explain, or build: a Keras build of one of
    `BUILD_PRESETS`); '' or what was wrong with its answer. Failed calls raise."""
    if kind == "explore":
        run(http, url, "explore", explore_values(rng))
    elif kind == "build":
        name = rng.choice(BUILD_PRESETS)
        built = call(http, url, "build_keras", list(preset_controls(name).values()))[0]
        return "" if built.startswith("AGREE") else f"build of {name} disagreed"
    elif kind == "predict":
        uploaded = upload(http, url, picture)
        call(http, url, "predict", [uploaded, rng.randint(1, 10), DEFAULT_MODEL])
    else:
        call(http, url, "explain", [upload(http, url, picture), DEFAULT_MODEL, 0.5])
    return ""


def timed(kind: str, request) -> tuple[str, float, str]:
    """(kind, seconds, error or '') of `request()`."""
    started = time.perf_counter()
    try:
        error = request()
    except (CallFailed, httpx.HTTPError) as failure:
        error = str(failure) or type(failure).__name__
    return kind, time.perf_counter() - started, error


def client_run(
    client: int, url: str, images: list[Path], builds: bool
) -> list[tuple[str, float, str]]:
    """(kind, seconds, error or '') for each of one client's requests: every other prediction
    of the example everyone clicks, the others of a distinct image each."""
    rng = random.Random(client)
    with httpx.Client(timeout=900) as http:
        return [
            timed(
                kind,
                lambda kind=kind, index=index: send(
                    http,
                    url,
                    kind,
                    rng,
                    REPEATED
                    if index % 2
                    else images[(client * REQUESTS_EACH + index) % len(images)],
                ),
            )
            for index, kind in enumerate(plan(client, rng, builds))
        ]


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
    report(
        results,
        time.perf_counter() - started,
        f"{'with' if builds else 'without'} Keras builds: "
        f"{CLIENTS} clients x {REQUESTS_EACH} requests",
    )


def report(results: list[tuple[str, float, str]], elapsed: float, title: str) -> None:
    """Errors, throughput and latency per kind of request."""
    errors = [(kind, error) for kind, _, error in results if error]
    print(
        f"{title} = {len(results)} in {elapsed:.1f} s: "
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
            f"  {kind:8s} {len(values):5d} ok   p50 {statistics.median(values) * 1e3:7.0f} ms"
            f"   p99 {percentile(values, 0.99) * 1e3:7.0f} ms"
            f"   max {max(values) * 1e3:7.0f} ms",
            flush=True,
        )


def resident_mib(pid: int) -> float:
    """The resident memory of process `pid` (Linux), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return (
        int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
        / 1024
    )


def soak_client(
    client: int, url: str, images: list[Path], count: int
) -> list[tuple[str, float, str]]:
    """(kind, seconds, error or '') for `count` requests drawn from `SOAK_MIX`, half the
    pictures the example everyone clicks."""
    rng = random.Random(client)
    kinds = rng.choices(list(SOAK_MIX), weights=list(SOAK_MIX.values()), k=count)
    with httpx.Client(timeout=900) as http:
        return [
            timed(
                kind,
                lambda kind=kind: send(
                    http, url, kind, rng, REPEATED if rng.random() < 0.5 else rng.choice(images)
                ),
            )
            for kind in kinds
        ]


def soak(requests: int, images: list[Path]) -> None:
    """`requests` mixed requests from `SOAK_CLIENTS` clients; errors, memory and leftovers."""
    with tempfile.TemporaryDirectory() as cache:
        server, url = start_app(DENSENET_CACHE_TTL_S=str(SOAK_CACHE_TTL_S), GRADIO_TEMP_DIR=cache)
        try:
            # The page's own files (examples, the Model tab's gallery) are written at start and
            # kept for as long as the page is served.
            page_files = {path for path in Path(cache).rglob("*") if path.is_file()}
            with httpx.Client(timeout=300) as http:  # one of each kind: models and Keras loaded
                picture = upload(http, url, REPEATED)
                call(http, url, "predict", [picture, 5, DEFAULT_MODEL])
                call(http, url, "explain", [picture, DEFAULT_MODEL, 0.5])
                run(http, url, "explore", explore_values(random.Random(0)))
            samples = [resident_mib(server.pid)]
            done = threading.Event()

            def watch() -> None:
                while not done.wait(0.5):
                    samples.append(resident_mib(server.pid))

            watcher = threading.Thread(target=watch)
            watcher.start()
            started = time.perf_counter()
            each = [
                requests // SOAK_CLIENTS + (c < requests % SOAK_CLIENTS)
                for c in range(SOAK_CLIENTS)
            ]
            with ThreadPoolExecutor(SOAK_CLIENTS) as pool:
                results = [
                    result
                    for results in pool.map(
                        soak_client,
                        range(SOAK_CLIENTS),
                        [url] * SOAK_CLIENTS,
                        [images] * SOAK_CLIENTS,
                        each,
                    )
                    for result in results
                ]
            elapsed = time.perf_counter() - started
            done.set()
            watcher.join()
            report(results, elapsed, f"soak: {SOAK_CLIENTS} clients")
            print(
                f"  server resident memory: start {samples[0]:.0f} MiB, peak {max(samples):.0f} "
                f"MiB, end {samples[-1]:.0f} MiB; by tenths of the run: "
                + ", ".join(
                    f"{samples[round(tenth * (len(samples) - 1) / 10)]:.0f}" for tenth in range(11)
                ),
                flush=True,
            )
            # Gradio deletes files older than the limit every interval (min(limit, 300 s)).
            oldest_allowed = SOAK_CACHE_TTL_S + min(SOAK_CACHE_TTL_S, 300)
            time.sleep(oldest_allowed + 10)
            now = time.time()
            files = [path for path in Path(cache).rglob("*") if path.is_file()]
            stale = [
                path
                for path in files
                if path not in page_files and now - path.stat().st_mtime > oldest_allowed
            ]
            print(
                f"  {oldest_allowed + 10} s after the run: {len(files)} files in the cache "
                f"({len(page_files)} the page's own), {len(stale)} others older than "
                f"{oldest_allowed} s (the time limit plus one cleanup interval)",
                flush=True,
            )
            for path in stale[:10]:
                print(f"    {path.relative_to(cache)}")
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soak", nargs="?", type=int, const=SOAK_REQUESTS, metavar="REQUESTS")
    soak_requests = parser.parse_args().soak
    sample = np.load(ROOT / "tests" / "data" / "fashion-test-sample.npz")["images"]
    with tempfile.TemporaryDirectory() as folder:
        images = []
        for index, image in enumerate(sample[: CLIENTS * PREDICTIONS_EACH + 1]):
            images.append(Path(folder) / f"test-{index}.png")
            Image.fromarray(image).save(images[-1])
        if soak_requests:
            soak(soak_requests, images)
            return
        server, url = start_app()
        try:
            with httpx.Client(timeout=300) as http:
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
