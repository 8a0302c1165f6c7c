"""Group concurrent single-image requests into one forward pass.

Gradio's own batching (`batch=True`) fails every request in a batch when one of them is bad,
so uploads are validated and preprocessed per request, and only the already-valid model
inputs meet here, where nothing can fail on account of another caller.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import numpy as np


class MicroBatcher:
    """`submit(x)` blocks until `batch_fn(stacked xs)` has run over the inputs waiting
    together (up to `max_batch_size`), and returns its output for x (`batch_fn` returns one
    output per input, in order). It never waits for company: a lone request runs at once, and
    requests that arrive during a forward pass form the next batch."""

    def __init__(
        self, batch_fn: Callable[[np.ndarray], Sequence], max_batch_size: int = 16
    ) -> None:
        self._batch_fn, self._max_batch_size = batch_fn, max_batch_size
        self._requests: queue.Queue[tuple[np.ndarray, Future]] = queue.Queue()
        # The sizes of the latest batches, for tests and benchmarks; bounded, as the server
        # runs for weeks.
        self.batch_sizes: deque[int] = deque(maxlen=1024)
        threading.Thread(target=self._serve, name="micro-batcher", daemon=True).start()

    def submit(self, item: np.ndarray):
        future: Future = Future()
        self._requests.put((item, future))
        return future.result()

    def _serve(self) -> None:
        while True:
            pending = [self._requests.get()]
            try:
                while len(pending) < self._max_batch_size:
                    pending.append(self._requests.get_nowait())
            except queue.Empty:
                pass
            self.batch_sizes.append(len(pending))
            try:
                outputs = self._batch_fn(np.stack([item for item, _ in pending]))
            except Exception as error:  # noqa: BLE001 - handed to every waiting caller
                for _, future in pending:
                    future.set_exception(error)
                continue
            for (_, future), output in zip(pending, outputs):
                future.set_result(output)
