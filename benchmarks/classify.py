"""Classify speed: server-side predict beside the raw forward passes, and concurrent throughput.

Run: python benchmarks/classify.py   (DENSENET_WEIGHTS_DIR picks another weights folder)
Targets: predict <= 1.3x the raw forward of the fastest path; 16 callers >= 4x one caller.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from densenet_demo.classify import ClassifyService, example_images  # noqa: E402

EXAMPLES = example_images(ROOT / "examples" / "fashion")


def median_ms(function, repeats: int = 200) -> float:
    for _ in range(10):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def forward_paths(service: ClassifyService) -> dict[str, float]:
    import tensorflow as tf

    classifier = service.classifier
    image = classifier._standardise(np.zeros((1, 28, 28), np.uint8))
    compiled = tf.function(lambda x: classifier.model(x, training=False))
    return {
        "LiteRT forward (the app's path)": median_ms(lambda: classifier._forward(image)),
        "compiled tf.function forward": median_ms(lambda: compiled(image).numpy()),
        "model.predict": median_ms(lambda: classifier.model.predict(image, verbose=0), 50),
        "server predict (decode + preprocess + forward + top-k)":
            median_ms(lambda: service.classify(EXAMPLES[0], 5)),
    }


def distinct_uploads(folder: Path, count: int) -> list[str]:
    """`count` different real test images as PNG files (identical uploads would share one
    file in Gradio's cache, which concurrent requests then race on)."""
    from PIL import Image

    sample = np.load(ROOT / "tests" / "data" / "fashion-test-sample.npz")
    paths = []
    for index, image in enumerate(sample["images"][:count]):
        path = folder / f"upload-{index}.png"
        Image.fromarray(image).resize((112, 112)).save(path)
        paths.append(str(path))
    return paths


def throughput(url: str, uploads: list[str], callers: int, requests_each: int) -> float:
    from gradio_client import Client, handle_file

    # Callers read the labels; they do not download the preview image.
    clients = [Client(url, verbose=False, download_files=False) for _ in range(callers)]

    def work(number):
        for index in range(requests_each):
            upload = uploads[(number * requests_each + index) % len(uploads)]
            clients[number].predict(handle_file(upload), 5, api_name="/predict")

    started = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        list(pool.map(work, range(callers)))
    return callers * requests_each / (time.perf_counter() - started)


def start_app() -> tuple[subprocess.Popen, str]:
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL,
                              env={**os.environ, "GRADIO_SERVER_PORT": str(port)})
    url = f"http://127.0.0.1:{port}/"
    for _ in range(360):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    sys.exit("the app did not start")


def main() -> None:
    service, unavailable = ClassifyService.load("fashion",
                                                os.environ.get("DENSENET_WEIGHTS_DIR") or None)
    if service is None:
        sys.exit(unavailable)
    paths = forward_paths(service)
    for name, milliseconds in paths.items():
        print(f"{name:56s} {milliseconds:8.2f} ms (median)")
    ratio = paths["server predict (decode + preprocess + forward + top-k)"] / paths[
        "LiteRT forward (the app's path)"]
    print(f"{'server predict / LiteRT forward':56s} {ratio:8.2f}x (target <= 1.3x)")

    server, url = start_app()  # its own process, as deployed: clients here, server there
    with tempfile.TemporaryDirectory() as folder:
        uploads = distinct_uploads(Path(folder), 400)
        try:
            throughput(url, uploads[-5:], 1, 5)  # warm up
            one = throughput(url, uploads[:40], 1, 40)
            sixteen = throughput(url, uploads[40:], 16, 20)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{'throughput, 1 gradio_client caller':56s} {one:8.1f} images/s")
    print(f"{'throughput, 16 concurrent gradio_client callers':56s} {sixteen:8.1f} images/s "
          f"({sixteen / one:.1f}x; target >= 4x)")


if __name__ == "__main__":
    main()
