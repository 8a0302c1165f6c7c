import base64
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD_S = 120  # a call that takes longer than this is hung, not slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _launch_app(tmp_path_factory, **environment):
    """`python app.py` started as a user would, on a free loopback port. An environment value
    of None removes that variable; what the app prints is in `process.log_path`."""
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           **environment}
    env = {name: value for name, value in env.items() if value is not None}
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    process.log_path = log
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"app did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return process, url


def inline_image(data: bytes) -> dict:
    """An image as an API caller may send it: a base64 data: URL instead of an upload."""
    return {"url": "data:image/png;base64," + base64.b64encode(data).decode(), "path": None,
            "meta": {"_type": "gradio.FileData"}}


def predict_over_http(app_url, image_payload):
    """POST /predict with raw JSON: the image as given, every other input at its default."""
    info = httpx.get(app_url + "gradio_api/info", timeout=10).json()
    others = [parameter["parameter_default"]
              for parameter in info["named_endpoints"]["/predict"]["parameters"][1:]]
    join = httpx.post(app_url + "gradio_api/call/predict", timeout=60,
                      json={"data": [image_payload, *others]})
    return httpx.get(app_url + f"gradio_api/call/predict/{join.json()['event_id']}",
                     timeout=HANG_GUARD_S).text


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """The app as shipped."""
    process, url = _launch_app(tmp_path_factory)
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="session")
def classify_app_url(tmp_path_factory, tiny_weights_dir):
    """The app serving the tiny trained model in place of the shipped one; no ImageNet weights
    (its folder has none, and downloads are off)."""
    process, url = _launch_app(tmp_path_factory, DENSENET_WEIGHTS_DIR=str(tiny_weights_dir),
                               DENSENET_OFFLINE="1")
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture(scope="session")
def tiny_weights_dir(tmp_path_factory):
    """Real weights and card written by our trainer: a tiny DenseNet, one short epoch,
    under the shipped model's name `fashion`."""
    import dataclasses

    from densenet_demo import PRESETS
    from densenet_demo.train import TrainSettings, export, train

    root = tmp_path_factory.mktemp("classifier")
    config = dataclasses.replace(PRESETS["fashion"], block_layers=(1, 1), growth_rate=4,
                                 init_features=8)
    settings = TrainSettings(name="fashion", epochs=1, batch_size=64, train_limit=640,
                             validation_size=200)
    model, meta = train(config, settings, root / "run", log=lambda *_: None)
    export(model, config, settings, meta, root / "weights")
    return root / "weights"


