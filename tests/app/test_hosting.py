"""Safe hosting defaults: loopback, no share link, capped uploads and request bodies, uploads
deleted after a while, no flagging, only the app's own files served, weights that are data and
nothing else."""

import io
import os
import socket
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio.utils import get_upload_folder
from PIL import Image

from densenet_demo.architecture.controls import preset_controls
from densenet_demo.inference.image_file import MAX_FILE_BYTES
from densenet_demo.ui import hosting
from densenet_demo.ui.hosting import MAX_REQUEST_BYTES, cache_cleanup, release_freed_memory

from support import ROOT, inline_image, launch_app, predict_over_http, stop


@pytest.fixture(scope="module")
def default_app(tmp_path_factory):
    """`python app.py` with none of the variables that open it up (address, share); no model
    to load, which the defaults do not depend on. Uploads are kept 2 s instead of an hour, so
    that their deletion can be watched."""
    process, url = launch_app(
        tmp_path_factory.mktemp("app"),
        GRADIO_SERVER_NAME=None,
        GRADIO_SHARE=None,
        DENSENET_WEIGHTS_DIR=str(tmp_path_factory.mktemp("no-model")),
        DENSENET_OFFLINE="1",
        DENSENET_CACHE_TTL_S="2",
    )
    yield process, url
    stop(process)


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
    # The MCP server's tools are the documented endpoints, no more (GRADIO_MCP_SERVER=False
    # turns it off: tests/app/test_mcp.py).
    assert config["mcp_server"] is True


def test_there_is_no_flagging(default_app):
    _, url = default_app
    endpoints = httpx.get(url + "gradio_api/info", timeout=10).json()["named_endpoints"]
    assert endpoints and not [name for name in endpoints if "flag" in name]
    assert not (ROOT / ".gradio" / "flagged").exists() and not (ROOT / "flagged").exists()


def example_samples(url: str) -> list[dict]:
    """The gallery's example images, as the page's config lists them."""
    config = httpx.get(url + "config", timeout=10).json()
    return [
        sample[0]
        for component in config["components"]
        if component.get("type") == "dataset"
        for sample in component["props"]["samples"]
    ]


def file_payload(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def raw_exchange(url: str, head: bytes, body_parts=()) -> bytes:
    """The status line and body the server answers to a request written byte by byte: httpx
    would neither declare a length it does not send nor stop partway through a body."""
    with socket.create_connection(
        ("127.0.0.1", int(url.rstrip("/").rsplit(":", 1)[1])), timeout=60
    ) as connection:
        connection.sendall(head)
        for part in body_parts:
            connection.sendall(part)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += connection.recv(65536)
        head_part, body = answer.split(b"\r\n\r\n", 1)
        length = int(
            next(
                line.split(b":")[1]
                for line in head_part.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
        )
        while len(body) < length:
            body += connection.recv(65536)
    return head_part.split(b"\r\n")[0] + b"\n" + body


REQUEST_HEAD = (
    b"POST /gradio_api/call/explore HTTP/1.1\r\nHost: localhost\r\n"
    b"Content-Type: application/json\r\n"
)


def test_a_body_declared_over_the_limit_is_refused_before_it_is_read(default_app):
    _, url = default_app
    started = time.monotonic()
    answer = raw_exchange(
        url, REQUEST_HEAD + b"Content-Length: 1000000000\r\n\r\n", [b'{"data": [']
    )  # then nothing: the server must not wait for 1 GB
    assert answer.startswith(b"HTTP/1.1 413") and f"{MAX_REQUEST_BYTES:,} bytes".encode() in answer
    assert time.monotonic() - started < 30
    assert httpx.get(url, timeout=10).status_code == 200


def test_a_chunked_body_is_cut_off_where_it_crosses_the_limit(default_app):
    _, url = default_app
    chunk = b"[" * 2**16
    count = MAX_REQUEST_BYTES // len(chunk) + 1  # the last chunk crosses the limit
    answer = raw_exchange(
        url,
        REQUEST_HEAD + b"Transfer-Encoding: chunked\r\n\r\n",
        [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * count,
    )
    assert answer.startswith(b"HTTP/1.1 413") and b"Request body too large" in answer
    assert httpx.get(url, timeout=10).status_code == 200


def test_an_image_at_the_upload_limit_still_fits_as_a_data_url(classify_app_url):
    """The body limit leaves room for the largest upload sent inline, base64 and all."""
    noise = np.random.default_rng(0).integers(0, 256, (1800, 1800, 3), dtype=np.uint8)
    png = io.BytesIO()
    Image.fromarray(noise).save(png, format="PNG")
    assert 0.9 * MAX_FILE_BYTES < len(png.getvalue()) <= MAX_FILE_BYTES
    inline = inline_image(png.getvalue())
    assert MAX_FILE_BYTES < len(inline["url"]) < MAX_REQUEST_BYTES
    assert predict_over_http(classify_app_url, inline).startswith("event: complete")


def test_uploads_are_deleted_once_they_are_older_than_the_cache_ttl(default_app):
    _, url = default_app
    example = ROOT / "examples" / "fashion" / "bag-18.png"
    with open(example, "rb") as image:
        uploaded = httpx.post(
            url + "gradio_api/upload", timeout=10, files={"files": ("bag.png", image, "image/png")}
        ).json()[0]
    assert os.path.exists(uploaded)
    deadline = time.monotonic() + 30  # kept 2 s, looked for every 2 s
    while os.path.exists(uploaded) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not os.path.exists(uploaded)
    # ...while the example images, copied into the same cache, are kept and still served.
    samples = example_samples(url)
    assert samples and all(os.path.exists(sample["path"]) for sample in samples)
    assert httpx.get(samples[0]["url"], timeout=10).status_code == 200


def test_an_image_sent_inline_is_deleted_like_an_upload(default_app):
    _, url = default_app
    png = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 30), np.uint8)).save(png, "PNG")
    predict_over_http(url, inline_image(png.getvalue()))
    kept = [
        path
        for path in Path(get_upload_folder()).glob("inline-*.png")
        if path.read_bytes() == png.getvalue()
    ]
    assert len(kept) == 1
    deadline = time.monotonic() + 30
    while kept[0].exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not kept[0].exists()


def test_a_download_is_served_then_deleted_like_a_result(default_app):
    _, url = default_app
    answer = httpx.post(
        url + "gradio_api/run/export_config",
        json={"data": list(preset_controls("article").values())},
        timeout=60,
    ).json()["data"][0]
    assert Path(answer["path"]).is_relative_to(get_upload_folder())  # served, not copied
    assert httpx.get(answer["url"], timeout=10).json()["style"] == "article"
    deadline = time.monotonic() + 30  # kept 2 s, looked for every 2 s
    while os.path.exists(answer["path"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not os.path.exists(answer["path"])


def test_the_cache_ttl_defaults_to_an_hour_and_refuses_nonsense(monkeypatch):
    monkeypatch.delenv("DENSENET_CACHE_TTL_S", raising=False)
    assert cache_cleanup() == (300, 3600)  # looked for every 5 min, deleted after an hour
    monkeypatch.setenv("DENSENET_CACHE_TTL_S", "60")
    assert cache_cleanup() == (60, 60)
    for nonsense in ["0", "-5", "1.5", "an hour"]:
        monkeypatch.setenv("DENSENET_CACHE_TTL_S", nonsense)
        with pytest.raises(SystemExit, match="DENSENET_CACHE_TTL_S must be a whole number"):
            cache_cleanup()


def resident_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


@pytest.mark.skipif(
    hosting._malloc_trim is None or not Path("/proc/self/status").exists(),
    reason="glibc's malloc_trim on Linux only",
)
def test_memory_freed_in_small_blocks_is_handed_back_to_the_system():
    blocks = [bytes(1000) for _ in range(100_000)]  # ~100 MB of small blocks in glibc's heap
    pinned = blocks[-1]  # the top of the heap stays in use: glibc cannot shrink it itself
    del blocks
    kept = resident_mib()
    release_freed_memory()
    assert resident_mib() < kept - 50 and pinned


@pytest.mark.parametrize(
    "path",
    [
        str(ROOT / "app.py"),
        "/etc/passwd",
        str(ROOT / "examples" / "fashion" / "bag-18.png"),
        str(ROOT / "densenet_demo" / "preprocess.py"),
        "app.py",
        "/tmp/gradio/../../etc/passwd",
    ],
)
def test_files_outside_the_apps_own_are_not_served(classify_app_url, path):
    response = httpx.get(classify_app_url + "gradio_api/file=" + path, timeout=10)
    assert response.status_code in (403, 404) and "root:" not in response.text


def test_the_weights_are_not_served(classify_app_url, tiny_weights_dir):
    for path in tiny_weights_dir.iterdir():
        response = httpx.get(classify_app_url + f"gradio_api/file={path}", timeout=10)
        assert response.status_code == 403, path


def test_the_example_images_are_served(classify_app_url):
    samples = example_samples(classify_app_url)
    assert len(samples) == 20
    for sample in samples[:3]:
        image = httpx.get(sample["url"], timeout=10)
        assert image.status_code == 200
        original = ROOT / "examples" / "fashion" / sample["orig_name"]
        assert image.content == original.read_bytes()


def test_an_api_caller_cannot_make_the_server_read_its_files(classify_app_url):
    # The same request with a file the caller uploaded is answered: only the path differs.
    example = ROOT / "examples" / "fashion" / "bag-18.png"
    with open(example, "rb") as image:
        uploaded = httpx.post(
            classify_app_url + "gradio_api/upload",
            timeout=10,
            files={"files": ("bag.png", image, "image/png")},
        ).json()[0]
    assert predict_over_http(classify_app_url, file_payload(uploaded)).startswith("event: complete")
    for path in ["/etc/passwd", str(example)]:
        answer = predict_over_http(classify_app_url, file_payload(path))
        assert answer.startswith("event: error") and "root:" not in answer


def test_the_weights_file_holds_arrays_and_nothing_that_runs(tiny_weights_dir):
    """Loaded with load_weights into a model our code builds: no pickles, no layer configs."""
    import h5py

    arrays = []
    with h5py.File(tiny_weights_dir / "fashion.weights.h5", "r") as weights:
        weights.visititems(
            lambda name, item: arrays.append(item) if isinstance(item, h5py.Dataset) else None
        )
        assert arrays and all(np.issubdtype(array.dtype, np.number) for array in arrays)
        assert "model_config" not in weights.attrs  # what a whole saved model would carry
