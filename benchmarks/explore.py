"""Explore-tab speed: analytic summary vs Keras build, and the round trip of one update (the
API's, and the page's own with and without a configuration pinned as A).

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
from densenet_demo.architecture.controls import MEMORY_CONTROLS, preset_controls

# densenet121's control values, a memory batch size of 32 and the default optimizer and memory
# size, as an API caller sends them.
DENSENET121_CONTROLS = [
    *preset_controls("densenet121").values(),
    32,
    *(control.default for control in MEMORY_CONTROLS[1:]),
]


def summary_time(config, repeats: int = 7, number: int = 50) -> float:
    """Best-of-`repeats` mean seconds per call (timeit's convention for noisy machines)."""
    return min(timeit.repeat(lambda: summarize(config), number=number, repeat=repeats)) / number


def handler_time(handler, repeats: int = 7, number: int = 20) -> float:
    return min(timeit.repeat(handler, number=number, repeat=repeats)) / number


def explore_views():
    """The /explore handler: summary, headline, charts, layer table, code and link."""
    from densenet_demo.architecture.controls import MEMORY_CONTROLS as memory
    from densenet_demo.ui.explore_tab import explore

    names = [*preset_controls("densenet121"), *(control.name for control in memory)]
    return explore(**dict(zip(names, DENSENET121_CONTROLS)))


def published_map():
    """The map of published DenseNets for densenet121's link (the page redraws it when the
    link changes, in a request of its own)."""
    from densenet_demo.architecture.share import to_query
    from densenet_demo.ui.explore_tab import published_map_view

    return published_map_view("?" + to_query(PRESETS["densenet121"], "densenet121"))


def page_update(pinned: bool):
    """The page's own update (the `on_page` event) to growth rate 24, as the browser sends it
    (raw values), without A or with densenet121 pinned as A."""
    from densenet_demo.architecture.controls import CONTROLS
    from densenet_demo.ui.components import component_for
    from densenet_demo.ui.explore_tab import on_page

    components = {c.name: component_for(c, None) for c in (*CONTROLS, *MEMORY_CONTROLS)}
    names = [*preset_controls("densenet121"), *(control.name for control in MEMORY_CONTROLS)]
    values = {**dict(zip(names, DENSENET121_CONTROLS)), "growth_rate": 24}
    pin = PRESETS["densenet121"] if pinned else None
    return lambda: on_page(components, "update")(None, pin, **values)


def page_downloads():
    """The downloads and differing fields for densenet121's link, densenet-169 pinned (the page
    remakes them when the link changes, in a request of its own): three small files written."""
    from densenet_demo.architecture.share import to_query
    from densenet_demo.ui.explore_tab import page_files

    link = "?" + to_query(PRESETS["densenet121"], "densenet121")
    return page_files(link, PRESETS["densenet169"])


def page_updates(url: str, demo, calls: int) -> dict[str, list[float]]:
    """Round trips of the page's update event over HTTP, as the browser makes them (POST
    /gradio_api/run/page_update in one session), first without A, then with densenet121
    pinned (/gradio_api/run/pin in the same session)."""
    import httpx

    def payload(event: str, growth_rate: int) -> list:
        function = next(fn for fn in demo.fns.values() if fn.api_name == event)
        return [
            None
            if block.stateful
            else growth_rate
            if getattr(block, "label", "") == "Growth rate k"
            else block.value
            for block in function.inputs
        ]

    times: dict[str, list[float]] = {}
    with httpx.Client() as http:
        for case in ("page update (on_page event)", "page update, A pinned"):
            if case.endswith("pinned"):
                body = {"data": payload("pin", 32), "session_hash": "benchmark"}
                http.post(f"{url}/gradio_api/run/pin", json=body).raise_for_status()
            times[case] = []
            for _ in range(calls + 3):
                body = {"data": payload("page_update", 24), "session_hash": "benchmark"}
                started = time.perf_counter()
                response = http.post(f"{url}/gradio_api/run/page_update", json=body)
                response.raise_for_status()
                times[case].append(time.perf_counter() - started)
            headline = response.json()["data"][2]["value"]
            assert ("| B − A |" in headline) == case.endswith("pinned"), case
    return times


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
        times.update(page_updates(url, demo, calls))
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
    print(f"explore(densenet121), in process:  {handler_time(explore_views) * 1e3:8.2f} ms")
    print(
        f"published map (the page's second request after a change), in process: "
        f"{handler_time(published_map) * 1e3:.2f} ms"
    )
    print(
        "downloads (the page's other request after a change), in process: "
        f"{handler_time(page_downloads) * 1e3:.2f} ms"
    )
    for pinned in (False, True):
        print(
            f"page update of densenet121, in process{', A pinned' if pinned else ''}: "
            f"{handler_time(page_update(pinned)) * 1e3:.2f} ms"
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
