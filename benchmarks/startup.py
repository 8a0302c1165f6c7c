"""Cold start: from `python app.py` to the first answered /predict, before and after serving the
converted model, measured side by side in one run.

Run: python benchmarks/startup.py [repeats]   (default 3, alternating the two)
"Before" serves a copy of the shipped weights whose card names no converted file (so the app
imports TensorFlow, builds the Keras model, loads the weights and converts it at start, as it
did until the .tflite shipped); "after" serves the shipped folder. Each start is a fresh
process: the end-to-end time is polled over HTTP (upload + /predict every 50 ms until one is
answered), and the breakdown comes from a child that times each step of `page.serve`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx

from densenet_demo.inference.card import ModelCard, card_path
from densenet_demo.inference.classifier import WEIGHTS_DIR
from densenet_demo.inference.service import DEFAULT_MODEL

from app_server import CallFailed, call, upload

TARGET_S = 5.0
EXAMPLE = sorted((ROOT / "examples" / "fashion").glob("*.png"))[0]
# Each step of `page.serve`, timed in a fresh interpreter; prints one JSON object.
BREAKDOWN = """
import json, os, sys, time
started = time.perf_counter()
steps = {}
def step(name):
    global started
    now = time.perf_counter()
    steps[name] = now - started
    started = now
import gradio
step("import gradio")
from densenet_demo.ui import page
from densenet_demo.inference.service import DEFAULT_MODEL, ModelRegistry
step("import the app")
models = ModelRegistry(os.environ.get("DENSENET_WEIGHTS_DIR") or None)
models.load(DEFAULT_MODEL, isolated=False)
step("load the default model")
demo = page.build_demo(models)
step("build the page")
demo.launch(**page.launch_options(), prevent_thread_lock=True)
step("launch the server")
models.service(DEFAULT_MODEL).classify(sys.argv[1], 5)
step("first prediction")
steps["tensorflow imported"] = "tensorflow" in sys.modules
demo.close()
print(json.dumps(steps))
"""


def unconverted_copy(folder: Path) -> Path:
    """The shipped weights, their card naming neither the converted file nor the
    feature-reuse grids: the app then needs Keras at start, as before."""
    shutil.copytree(WEIGHTS_DIR, folder, dirs_exist_ok=True)
    path = card_path(folder, DEFAULT_MODEL)
    card = ModelCard.read(path)
    unconverted = dataclasses.replace(
        card, litert_file=None, litert_sha256=None, feature_reuse=None
    )
    unconverted.write(path)
    (folder / card.litert_file).unlink()
    return folder


def first_answer_s(weights_dir: Path | None, port: int) -> float:
    """Seconds from starting `python app.py` to its first answered /predict."""
    environment = {**os.environ, "GRADIO_SERVER_PORT": str(port)}
    environment.pop("DENSENET_WEIGHTS_DIR", None)
    if weights_dir is not None:
        environment["DENSENET_WEIGHTS_DIR"] = str(weights_dir)
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        with httpx.Client(timeout=30) as http:
            while server.poll() is None and time.perf_counter() - started < 300:
                try:
                    call(http, url, "predict", [upload(http, url, EXAMPLE), 5, DEFAULT_MODEL])
                    return time.perf_counter() - started
                except (CallFailed, httpx.HTTPError):
                    time.sleep(0.05)
        sys.exit("the app did not answer /predict within 300 s")
    finally:
        server.terminate()
        server.wait(timeout=30)


def breakdown(weights_dir: Path | None, port: int) -> dict:
    environment = {**os.environ, "GRADIO_SERVER_PORT": str(port)}
    environment.pop("DENSENET_WEIGHTS_DIR", None)
    if weights_dir is not None:
        environment["DENSENET_WEIGHTS_DIR"] = str(weights_dir)
    child = subprocess.run(
        [sys.executable, "-c", BREAKDOWN, str(EXAMPLE)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    port = 7900
    with tempfile.TemporaryDirectory() as folder:
        variants = {"before (convert at start)": unconverted_copy(Path(folder)), "after": None}
        totals: dict[str, list[float]] = {name: [] for name in variants}
        steps: dict[str, list[dict]] = {name: [] for name in variants}
        for _ in range(repeats):
            for name, weights_dir in variants.items():
                totals[name].append(first_answer_s(weights_dir, port))
                steps[name].append(breakdown(weights_dir, port))
    print(f"python app.py -> first answered /predict, median of {repeats} (target <= {TARGET_S} s)")
    for name in variants:
        print(
            f"  {name:26s} {statistics.median(totals[name]):6.2f} s   (runs: "
            + ", ".join(f"{value:.2f}" for value in totals[name])
            + ")"
        )
    before, after = (statistics.median(values) for values in totals.values())
    print(f"  {'speed-up':26s} {before / after:6.2f}x")
    print("\nbreakdown (median seconds, one process each)")
    names = [key for key in steps["after"][0] if key != "tensorflow imported"]
    print(f"  {'step':26s}" + "".join(f"{name.split()[0]:>10s}" for name in variants))
    for key in names:
        print(
            f"  {key:26s}"
            + "".join(
                f"{statistics.median(run[key] for run in steps[name]):10.2f}" for name in variants
            )
        )
    for name in variants:
        imported = {run["tensorflow imported"] for run in steps[name]}
        print(f"  TensorFlow imported by the first prediction ({name.split()[0]}): {imported}")


if __name__ == "__main__":
    main()
