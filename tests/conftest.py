"""Fixtures: the app as shipped, the app serving a tiny model trained here, and that model.

Markers follow from the fixtures a test uses (see `pytest_collection_modifyitems`), so
`pytest -m "not slow and not server and not browser"` runs the pure core in seconds.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest

from support import CHROMIUM, launch_app, stop

SERVER_FIXTURES = {"app_url", "classify_app_url", "client", "default_app"}
SLOW_FIXTURES = {"tiny_weights_dir"}  # trains a model: Keras and TensorFlow


def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SERVER_FIXTURES:
            item.add_marker(pytest.mark.server)
        if fixtures & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """The app as shipped."""
    process, url = launch_app(tmp_path_factory.mktemp("app"))
    yield url
    stop(process)


@pytest.fixture(scope="session")
def classify_app_url(tmp_path_factory, tiny_weights_dir):
    """The app serving the tiny trained model in place of the shipped one; no ImageNet weights
    (its folder has none, and downloads are off)."""
    process, url = launch_app(
        tmp_path_factory.mktemp("app"),
        DENSENET_WEIGHTS_DIR=str(tiny_weights_dir),
        DENSENET_OFFLINE="1",
    )
    yield url
    stop(process)


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
    from densenet_demo.training.export import export
    from densenet_demo.training.trainer import TrainSettings, train

    root = tmp_path_factory.mktemp("classifier")
    config = dataclasses.replace(
        PRESETS["fashion"], block_layers=(1, 1), growth_rate=4, init_features=8
    )
    settings = TrainSettings(
        name="fashion", epochs=1, batch_size=64, train_images=640, validation_size=200
    )
    model, meta = train(config, settings, root / "run", log=lambda *_: None)
    export(model, config, settings, meta, root / "weights")
    return root / "weights"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (the browser tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()
