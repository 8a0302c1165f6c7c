"""The fastest measured inference path: the Keras model converted to LiteRT (XNNPACK).

One image through the shipped Fashion-MNIST DenseNet on a 2-core CPU: LiteRT 0.6 ms, a
compiled tf.function 6.1 ms, `model.predict` 74 ms (`benchmarks/classify.py`). LiteRT is the
maintained successor of `tf.lite.Interpreter`, which TensorFlow marks for deletion.
"""

from __future__ import annotations

import contextlib
import io
import threading

import numpy as np

CHUNK = 256  # large batches (evaluation) run in chunks of this many images
THREADS = 2  # the 2-core CPU this app is sized for


class LiteRTForward:
    """`forward(batch)` -> model outputs, float32 in and out; safe to call from any thread."""

    def __init__(self, model) -> None:
        import tensorflow as tf

        with contextlib.redirect_stdout(io.StringIO()):  # Keras prints every captured tensor
            self._flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
        self._input_shape = tuple(model.input_shape[1:])
        self._interpreters: dict[int, tuple] = {}  # one per batch size: resizing reallocates
        self._lock = threading.Lock()  # an interpreter must not run on two threads at once

    def _interpreter(self, batch_size: int) -> tuple:
        if batch_size not in self._interpreters:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_content=self._flatbuffer, num_threads=THREADS)
            source = interpreter.get_input_details()[0]["index"]
            interpreter.resize_tensor_input(source, [batch_size, *self._input_shape])
            interpreter.allocate_tensors()
            self._interpreters[batch_size] = (interpreter, source,
                                              interpreter.get_output_details()[0]["index"])
        return self._interpreters[batch_size]

    def _run(self, batch: np.ndarray) -> np.ndarray:
        interpreter, source, target = self._interpreter(len(batch))
        interpreter.set_tensor(source, batch)
        interpreter.invoke()
        return interpreter.get_tensor(target).copy()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        with self._lock:
            if len(batch) <= CHUNK:
                return self._run(batch)
            outputs = []
            for start in range(0, len(batch), CHUNK):
                chunk = batch[start:start + CHUNK]
                padded = np.concatenate([chunk, np.zeros((CHUNK - len(chunk), *chunk.shape[1:]),
                                                         np.float32)])
                outputs.append(self._run(padded)[:len(chunk)])
            return np.concatenate(outputs)
