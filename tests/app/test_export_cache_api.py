"""The export cache through the API: a caller asking for many distinct exports never makes the
server hold more than DENSENET_EXPORT_CACHE_MB of them, and the exports run in the queue,
where their concurrency limit holds."""

import dataclasses
from pathlib import Path

import httpx
import pytest

from densenet_demo import PRESETS
from densenet_demo.architecture.controls import controls_from_config

from support import launch_app, stop

pytestmark = pytest.mark.server  # the app of its own, capped

CAP = 2**20  # DENSENET_EXPORT_CACHE_MB=1
EXPORTS = ("/export_layer_table", "/export_config", "/export_code")


@pytest.fixture(scope="module")
def capped_app(tmp_path_factory):
    """The app with a 1 MB export cache, its Gradio cache in a folder of the test's; no model
    to load (the exports do not need one)."""
    cache = tmp_path_factory.mktemp("gradio-cache")
    process, url = launch_app(
        tmp_path_factory.mktemp("app"),
        GRADIO_TEMP_DIR=str(cache),
        DENSENET_EXPORT_CACHE_MB="1",
        DENSENET_WEIGHTS_DIR=str(tmp_path_factory.mktemp("no-model")),
        DENSENET_OFFLINE="1",
    )
    yield url, cache
    stop(process)


def bytes_kept(cache: Path) -> int:
    files = (cache / "exports").glob("*/*")
    return sum(path.stat().st_size for path in files if not path.name.startswith("."))


def test_many_exports_through_the_api_stay_under_the_cap(capped_app):
    from gradio_client import Client

    url, cache = capped_app
    client = Client(url, verbose=False)
    written = 0
    for growth_rate in range(4, 44):
        config = dataclasses.replace(PRESETS["densenet264"], growth_rate=growth_rate)
        values = list(controls_from_config(config, "densenet264").values())
        # The layer table (~64 KB here) fills the cache; the small files join it now and then.
        for endpoint in EXPORTS if growth_rate % 8 == 0 else EXPORTS[:1]:
            downloaded = Path(client.predict(*values, api_name=endpoint))
            written += downloaded.stat().st_size  # each was whole when it was fetched
            assert bytes_kept(cache) <= CAP
    assert written > 2 * CAP


def test_the_exports_run_in_the_queue(capped_app):
    """Only queued events have a concurrency limit: unqueued ones run as they arrive."""
    url, _ = capped_app
    dependencies = httpx.get(url + "config", timeout=10).json()["dependencies"]
    queued = {d["api_name"]: d["queue"] for d in dependencies}
    for endpoint in (*EXPORTS, "/export_keras"):
        assert queued[endpoint.removeprefix("/")] is True
    assert queued["page_files"] is True  # the page's downloads, made on every change
