"""The app in its own process, and its HTTP API called the way any HTTP client can.

Shared by the benchmarks that measure the server as deployed: clients here, server there.
Plain HTTP (not gradio_client) so that the clients' own work stays small beside the server's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


class CallFailed(RuntimeError):
    """An API call that ended in an error event or a bad HTTP status."""


def start_app(**environment: str) -> tuple[subprocess.Popen, str]:
    """`python app.py` on a free loopback port, with `environment` added; (process, url).

    Exits with the app's last output if it stops or has not answered within 10 minutes (a
    loaded machine can take minutes to import TensorFlow and warm the model up)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the server writes to it
    server = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "GRADIO_SERVER_PORT": str(port), **environment},
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 600
    while server.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    log.seek(0)
    sys.exit(f"the app did not start:\n{log.read().decode(errors='replace')[-3000:]}")


def run(http: httpx.Client, url: str, api_name: str, data: list) -> list:
    """Call an event served outside the queue (`queue=False`): one POST, one answer."""
    response = http.post(f"{url}gradio_api/run/{api_name}", json={"data": data})
    if response.status_code != 200:
        raise CallFailed(f"/{api_name}: HTTP {response.status_code} {response.text[:200]}")
    return response.json()["data"]


def events(http: httpx.Client, url: str, api_name: str, data: list) -> Iterator[tuple[str, Any]]:
    """Call a queued event: join the queue, then yield (event, payload) from its event stream
    ("generating" for each update, then "complete" or "error")."""
    joined = http.post(f"{url}gradio_api/call/{api_name}", json={"data": data})
    if joined.status_code != 200:
        raise CallFailed(f"/{api_name}: HTTP {joined.status_code} {joined.text[:200]}")
    event_id = joined.json()["event_id"]
    event = None
    with http.stream("GET", f"{url}gradio_api/call/{api_name}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                yield event, json.loads(line.removeprefix("data: "))


def call(http: httpx.Client, url: str, api_name: str, data: list) -> list:
    """Call a queued event and return its result."""
    for event, payload in events(http, url, api_name, data):
        if event == "error":
            raise CallFailed(f"/{api_name}: {payload}")
        if event == "complete":
            return payload
    raise CallFailed(f"/{api_name}: the event stream ended without a result")


def upload(http: httpx.Client, url: str, path: str | Path) -> dict:
    """Upload a file as the page does; returns the value a file input sends to the API."""
    with open(path, "rb") as file:
        response = http.post(f"{url}gradio_api/upload", files={"files": (Path(path).name, file)})
    if response.status_code != 200:
        raise CallFailed(f"upload: HTTP {response.status_code} {response.text[:200]}")
    return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}
