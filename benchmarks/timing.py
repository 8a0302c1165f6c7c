"""The one timing rule the benchmarks share: warm up, then the median of repeated calls."""

from __future__ import annotations

import statistics
import time


def median_ms(function, repeats: int = 200, warmup: int = 10) -> float:
    """Median wall time of `function()` in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3
