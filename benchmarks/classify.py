"""Classify speed: server-side predict beside the raw forward passes, and concurrent throughput.

Run: python benchmarks/classify.py [--part fashion|imagenet]   (DENSENET_WEIGHTS_DIR picks
another weights folder)
Targets: predict <= 1.3x the raw forward of the fastest path; 16 callers >= 4x one caller;
ImageNet DenseNet-121: the app's forward pass <= TensorFlow Lite's interpreter on the same model.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np

from densenet_demo.inference.classifier import Classifier, load_classifier
from densenet_demo.inference.service import ClassifyService, ModelRegistry
from densenet_demo.ui.classify_tab import example_images

from app_server import start_app
from timing import median_ms

EXAMPLES = example_images(ROOT / "examples" / "fashion")


def forward_paths(service: ClassifyService) -> dict[str, float]:
    import tensorflow as tf

    classifier = service.classifier
    pixels = np.zeros((1, 28, 28), np.uint8)
    image = classifier.standardise(pixels)
    compiled = tf.function(lambda x: classifier.model(x, training=False))
    mirror = "with" if classifier.card.mirror_averaged else "without"
    return {
        "LiteRT forward, one image": median_ms(lambda: classifier._forward(image)),
        f"the app's forward ({mirror} the mirror image)": median_ms(
            lambda: classifier.forward(pixels)
        ),
        "compiled tf.function forward": median_ms(lambda: compiled(image).numpy()),
        "model.predict": median_ms(lambda: classifier.model.predict(image, verbose=0), 50),
        "server predict (decode + preprocess + forward + top-k)": median_ms(
            lambda: service.classify(EXAMPLES[0], 5)
        ),
    }


def interleaved_ms(functions: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """(median, fastest) time of each function, called in turn, so that load from other
    processes falls on all of them alike; the fastest is the least disturbed by it."""
    for function in functions.values():
        function()
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - started)
    return {
        name: (statistics.median(values) * 1e3, min(values) * 1e3) for name, values in times.items()
    }


def imagenet_classifier() -> tuple[Classifier, str]:
    """DenseNet-121 with Keras' weights where they can be had without a download, else with
    random weights (Keras' initialisers): the time of a forward pass does not depend on them."""
    from densenet_demo.architecture.keras_model import build_model
    from densenet_demo.inference.imagenet import OFFLINE_VARIABLE, imagenet_card
    from densenet_demo.inference.litert import LiteRTForward, convert

    os.environ[OFFLINE_VARIABLE] = "1"
    try:
        return (
            load_classifier("densenet121", os.environ.get("DENSENET_WEIGHTS_DIR") or None),
            "Keras' ImageNet weights",
        )
    except ValueError:
        card = imagenet_card("densenet121")
        model = build_model(card.config, name="densenet121")
        shape, classes = card.config.input_shape, card.config.num_classes
        forward = LiteRTForward(convert(model), shape, classes)
        return Classifier(card, forward, model=model), "random weights"


def imagenet_paths(folder: Path) -> tuple[dict[str, tuple[float, float]], str]:
    """One 224x224 image through DenseNet-121 on every path, and the app's whole predict."""
    import tensorflow as tf
    from PIL import Image

    classifier, weights = imagenet_classifier()
    photo = folder / "photo.jpg"  # a 640x480 colour JPEG, as a phone upload shrunk
    ramp = np.linspace(0, 255, 640, dtype=np.float32)
    pixels = np.stack(
        [np.tile(ramp, (480, 1)), np.tile(ramp[:480, None], (1, 640)), np.full((480, 640), 128.0)],
        axis=-1,
    )
    Image.fromarray(pixels.astype(np.uint8)).save(photo, quality=90)
    image = classifier.standardise(classifier.model_input(photo)[None])
    with warnings.catch_warnings():  # its deprecation notice: what LiteRT replaces
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(
            model_content=classifier._forward._flatbuffer, num_threads=2
        )  # XNNPACK: its float default
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]["index"]
    target = interpreter.get_output_details()[0]["index"]

    def tf_lite():
        interpreter.set_tensor(source, image)
        interpreter.invoke()
        return interpreter.get_tensor(target)

    compiled = tf.function(lambda x: classifier.model(x, training=False))
    service = ClassifyService(classifier)
    return interleaved_ms(
        {
            "LiteRT forward (the app's path)": lambda: classifier._forward(image),
            "TensorFlow Lite interpreter (XNNPACK, 2 threads)": tf_lite,
            "compiled tf.function forward": lambda: compiled(image).numpy(),
            "server predict (decode + preprocess + forward + top-k)": lambda: service.classify(
                str(photo), 5
            ),
            "model.predict": lambda: classifier.model.predict(image, verbose=0),
        },
        repeats=40,
    ), weights


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


def imagenet_main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths, weights = imagenet_paths(Path(folder))
    print(f"ImageNet DenseNet-121, one image ({weights}):")
    for name, (median, fastest) in paths.items():
        print(f"{name:56s} {median:8.2f} ms median, {fastest:8.2f} ms fastest")
    app, tf_lite = (
        paths["LiteRT forward (the app's path)"],
        paths["TensorFlow Lite interpreter (XNNPACK, 2 threads)"],
    )
    print(
        f"{'app forward / TensorFlow Lite interpreter':56s} {app[0] / tf_lite[0]:8.2f}x "
        f"median, {app[1] / tf_lite[1]:8.2f}x fastest (target <= 1x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["all", "fashion", "imagenet"], default="all")
    part = parser.parse_args().part
    if part in ("all", "imagenet"):
        imagenet_main()
    if part in ("all", "fashion"):
        fashion_main()


def fashion_main() -> None:
    service, unavailable = ModelRegistry(os.environ.get("DENSENET_WEIGHTS_DIR") or None).load(
        "fashion", isolated=False
    )
    if service is None:
        sys.exit(unavailable)
    paths = forward_paths(service)
    for name, milliseconds in paths.items():
        print(f"{name:56s} {milliseconds:8.2f} ms (median)")
    ratio = (
        paths["server predict (decode + preprocess + forward + top-k)"]
        / paths["LiteRT forward, one image"]
    )
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
    print(
        f"{'throughput, 16 concurrent gradio_client callers':56s} {sixteen:8.1f} images/s "
        f"({sixteen / one:.1f}x; target >= 4x)"
    )


if __name__ == "__main__":
    main()
