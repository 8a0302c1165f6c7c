"""Safe hosting defaults: loopback, no share link, capped uploads, no flagging, only the app's
own files served, weights that are data and nothing else."""

import socket
from pathlib import Path

import httpx
import numpy as np
import pytest

from densenet_demo.preprocess import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def default_app(tmp_path_factory):
    """`python app.py` with none of the variables that open it up (address, share); no model
    to load, which the defaults do not depend on."""
    from conftest import _launch_app

    process, url = _launch_app(tmp_path_factory, GRADIO_SERVER_NAME=None, GRADIO_SHARE=None,
                               DENSENET_WEIGHTS_DIR=str(tmp_path_factory.mktemp("no-model")),
                               DENSENET_OFFLINE="1")
    yield process, url
    process.terminate()
    process.wait(timeout=30)


def this_hosts_address():
    """An address of this machine other than loopback (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return probe.getsockname()[0]
        except OSError:
            return None


def test_by_default_the_app_listens_on_loopback_only(default_app):
    _, url = default_app
    assert httpx.get(url, timeout=10).status_code == 200
    address = this_hosts_address()
    if address is None or address.startswith("127."):
        pytest.skip("this machine has no other address to try")
    with pytest.raises(httpx.ConnectError):
        httpx.get(url.replace("127.0.0.1", address), timeout=10)


def test_by_default_there_is_no_share_link(default_app):
    process, _ = default_app
    log = process.log_path.read_text()
    assert "Running on local URL:  http://127.0.0.1:" in log
    assert "public URL" not in log and "gradio.live" not in log


def test_uploads_are_capped_and_errors_hide_internals(default_app):
    _, url = default_app
    config = httpx.get(url + "config", timeout=10).json()
    assert config["max_file_size"] == MAX_FILE_BYTES
    assert config["show_error"] is False  # an unexpected exception is not echoed to callers
    assert config["mcp_server"] is False


def test_there_is_no_flagging(default_app):
    _, url = default_app
    endpoints = httpx.get(url + "gradio_api/info", timeout=10).json()["named_endpoints"]
    assert endpoints and not [name for name in endpoints if "flag" in name]
    assert not (ROOT / ".gradio" / "flagged").exists() and not (ROOT / "flagged").exists()


@pytest.mark.parametrize("path", [
    str(ROOT / "app.py"), "/etc/passwd", str(ROOT / "examples" / "fashion" / "bag-18.png"),
    str(ROOT / "densenet_demo" / "preprocess.py"), "app.py", "/tmp/gradio/../../etc/passwd",
])
def test_files_outside_the_apps_own_are_not_served(classify_app_url, path):
    response = httpx.get(classify_app_url + "gradio_api/file=" + path, timeout=10)
    assert response.status_code in (403, 404) and "root:" not in response.text


def test_the_weights_are_not_served(classify_app_url, tiny_weights_dir):
    for path in tiny_weights_dir.iterdir():
        response = httpx.get(classify_app_url + f"gradio_api/file={path}", timeout=10)
        assert response.status_code == 403, path


def test_the_example_images_are_served(classify_app_url):
    config = httpx.get(classify_app_url + "config", timeout=10).json()
    samples = [sample[0] for component in config["components"]
               if component.get("type") == "dataset" for sample in component["props"]["samples"]]
    assert len(samples) == 20
    for sample in samples[:3]:
        image = httpx.get(sample["url"], timeout=10)
        assert image.status_code == 200
        original = ROOT / "examples" / "fashion" / sample["orig_name"]
        assert image.content == original.read_bytes()


def _raw_predict(url: str, path: str) -> str:
    """The event stream of one raw-HTTP /predict call naming `path` as its image."""
    join = httpx.post(url + "gradio_api/call/predict", timeout=10,
                      json={"data": [{"path": path, "meta": {"_type": "gradio.FileData"}},
                                     5, "fashion"]})
    return httpx.get(url + f"gradio_api/call/predict/{join.json()['event_id']}",
                     timeout=60).text


def test_an_api_caller_cannot_make_the_server_read_its_files(classify_app_url):
    # The same request with a file the caller uploaded is answered: only the path differs.
    example = ROOT / "examples" / "fashion" / "bag-18.png"
    with open(example, "rb") as image:
        uploaded = httpx.post(classify_app_url + "gradio_api/upload", timeout=10,
                              files={"files": ("bag.png", image, "image/png")}).json()[0]
    assert _raw_predict(classify_app_url, uploaded).startswith("event: complete")
    for path in ["/etc/passwd", str(example)]:
        answer = _raw_predict(classify_app_url, path)
        assert answer.startswith("event: error") and "root:" not in answer


def test_the_weights_file_holds_arrays_and_nothing_that_runs(tiny_weights_dir):
    """Loaded with load_weights into a model our code builds: no pickles, no layer configs."""
    import h5py

    arrays = []
    with h5py.File(tiny_weights_dir / "fashion.weights.h5", "r") as weights:
        weights.visititems(lambda name, item: arrays.append(item)
                           if isinstance(item, h5py.Dataset) else None)
        assert arrays and all(np.issubdtype(array.dtype, np.number) for array in arrays)
        assert "model_config" not in weights.attrs  # what a whole saved model would carry

