"""MicroBatcher: concurrent callers share forward passes and each gets its own answer."""

import threading
import time

import numpy as np
import pytest

from densenet_demo.inference.batcher import MicroBatcher


def test_concurrent_callers_are_batched_and_get_their_own_results():
    def slow_double(batch):
        time.sleep(0.02)  # a forward pass: callers arriving meanwhile queue up
        return batch * 2

    batcher = MicroBatcher(slow_double, max_batch_size=8)
    results = {}

    def call(value):
        results[value] = batcher.submit(np.array([value]))

    threads = [threading.Thread(target=call, args=(v,)) for v in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {v: int(r[0]) for v, r in results.items()} == {v: 2 * v for v in range(32)}
    assert max(batcher.batch_sizes) > 1 and max(batcher.batch_sizes) <= 8
    assert sum(batcher.batch_sizes) == 32


def test_a_failing_batch_reaches_its_callers_and_the_batcher_keeps_serving():
    def fragile(batch):
        if (batch < 0).any():
            raise RuntimeError("negative input")
        return batch

    batcher = MicroBatcher(fragile)
    with pytest.raises(RuntimeError, match="negative input"):
        batcher.submit(np.array([-1]))
    assert int(batcher.submit(np.array([3]))[0]) == 3
