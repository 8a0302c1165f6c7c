"""Explore-tab speed: analytic summary vs Keras build, and the API round trip of one update.

Run: python benchmarks/explore.py   (targets: summary <= 2 ms and >= 1000x faster than the
Keras build; Explore round trip <= 100 ms)
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import time
import timeit
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from densenet_demo import PRESETS, summarize
from densenet_demo.architecture.controls import preset_controls

# densenet121's control values and a memory batch size of 32, as an API caller sends them.
DENSENET121_CONTROLS = [*preset_controls("densenet121").values(), 32]


def summary_time(config, repeats: int = 7, number: int = 50) -> float:
    """Best-of-`repeats` mean seconds per call (timeit's convention for noisy machines)."""
    return min(timeit.repeat(lambda: summarize(config), number=number, repeat=repeats)) / number


def keras_build_time(config) -> tuple[float, int]:
    from densenet_demo import build_model

    started = time.perf_counter()
    params = build_model(config).count_params()
    return time.perf_counter() - started, params


def round_trips(calls: int = 30) -> dict[str, list[float]]:
    import httpx
    from gradio_client import Client

    from densenet_demo.inference.service import ModelRegistry
    from densenet_demo.ui.page import build_demo

    demo = build_demo(ModelRegistry())

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}"
    times: dict[str, list[float]] = {
        "HTTP POST /gradio_api/run/explore": [],
        "gradio_client predict": [],
    }
    try:
        with httpx.Client() as http:
            for _ in range(calls + 3):
                started = time.perf_counter()
                response = http.post(
                    f"{url}/gradio_api/run/explore", json={"data": DENSENET121_CONTROLS}
                )
                response.raise_for_status()
                times["HTTP POST /gradio_api/run/explore"].append(time.perf_counter() - started)
        client = Client(url + "/", verbose=False)
        for _ in range(calls + 3):
            started = time.perf_counter()
            client.predict(*DENSENET121_CONTROLS, api_name="/explore")
            times["gradio_client predict"].append(time.perf_counter() - started)
    finally:
        demo.close()
    return {name: values[3:] for name, values in times.items()}  # drop warm-up calls


def main() -> None:
    config = PRESETS["densenet264"]
    summary_seconds = summary_time(config)
    build_seconds, keras_params = keras_build_time(config)
    assert keras_params == summarize(config).total_params
    print(f"summarize(densenet264):            {summary_seconds * 1e3:8.3f} ms  (target <= 2 ms)")
    print(f"Keras build + count_params:        {build_seconds * 1e3:8.0f} ms")
    print(
        f"summary speed-up over Keras build: {build_seconds / summary_seconds:8.0f}x "
        "(target >= 1000x)"
    )
    for name, values in round_trips().items():
        values = sorted(values)
        p90 = values[int(0.9 * (len(values) - 1))]
        print(
            f"Explore round trip, densenet121, {name}: median "
            f"{statistics.median(values) * 1e3:.0f} ms, p90 {p90 * 1e3:.0f} ms "
            f"({len(values)} calls; target <= 100 ms)"
        )


if __name__ == "__main__":
    main()
