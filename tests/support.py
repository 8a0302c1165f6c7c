"""What many tests share: the repository's paths, real sample files, and the app started as a
user starts it. Fixtures built on these live in conftest.py."""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples" / "fashion").glob("*.png"))  # real Fashion-MNIST test images
EXAMPLE = EXAMPLES[0]
SAMPLE = ROOT / "tests" / "data" / "fashion-test-sample.npz"  # 2,000 real test images
CHROMIUM = Path("/usr/bin/chromium")  # Debian's: Playwright cannot download its own here
HANG_GUARD_S = 120  # a call that takes longer than this is hung, not slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_app(log_dir: Path, **environment: str | None) -> tuple[subprocess.Popen, str]:
    """`python app.py` started as a user would, on a free loopback port, its Train-tab runs
    in `log_dir`/runs. An environment value of None removes that variable; what the app
    prints is in `process.log_path`."""
    port = free_port()
    log = log_dir / "app.log"
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "DENSENET_RUNS_DIR": str(log_dir / "runs"),
        **environment,
    }
    env = {name: value for name, value in env.items() if value is not None}
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
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


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def run_cli(*arguments: str, **environment: str) -> subprocess.CompletedProcess:
    """`python -m densenet_demo ARGUMENTS` in a child process, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "densenet_demo", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={**os.environ, **environment},
    )


def inline_image(data: bytes) -> dict:
    """An image as an API caller may send it: a base64 data: URL instead of an upload."""
    return {
        "url": "data:image/png;base64," + base64.b64encode(data).decode(),
        "path": None,
        "meta": {"_type": "gradio.FileData"},
    }


def predict_over_http(app_url: str, image_payload) -> str:
    """POST /predict with raw JSON: the image as given, every other input at its default."""
    info = httpx.get(app_url + "gradio_api/info", timeout=10).json()
    others = [
        parameter["parameter_default"]
        for parameter in info["named_endpoints"]["/predict"]["parameters"][1:]
    ]
    join = httpx.post(
        app_url + "gradio_api/call/predict", timeout=60, json={"data": [image_payload, *others]}
    )
    return httpx.get(
        app_url + f"gradio_api/call/predict/{join.json()['event_id']}", timeout=HANG_GUARD_S
    ).text


def with_mirror_average(weights_dir: Path, folder: Path, used: bool) -> Path:
    """A copy of a trained model's folder whose card says whether predictions average the
    mirror image's: the same weights served the other way."""
    from densenet_demo.inference.card import ModelCard

    shutil.copytree(weights_dir, folder)
    card = ModelCard.read(folder / "fashion.json")
    mirror = dataclasses.replace(card.mirror_average, used=used)
    (folder / "fashion.json").write_text(dataclasses.replace(card, mirror_average=mirror).to_json())
    return folder


def until(jobs, run_id, condition):
    """A training job's states as they come, up to the first for which `condition` holds."""
    seen = []
    for state in jobs.follow(run_id):
        seen.append(state)
        if condition(state):
            return seen
    raise AssertionError(f"the job ended ({seen[-1].state}: {seen[-1].message}) first")
