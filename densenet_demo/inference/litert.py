"""The fastest measured inference path: the Keras model converted to LiteRT (XNNPACK).

One image through the shipped Fashion-MNIST DenseNet on a 2-core CPU: LiteRT 0.6 ms, a
compiled tf.function 6.1 ms, `model.predict` 74 ms (`benchmarks/classify.py`). LiteRT is the
maintained successor of `tf.lite.Interpreter`, which TensorFlow marks for deletion.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

CHUNK = 256  # large batches (evaluation) run in chunks of this many images
THREADS = 2  # the 2-core CPU this app is sized for


def convert(model) -> bytes:
    """The LiteRT flatbuffer of a Keras model."""
    import tensorflow as tf

    with contextlib.redirect_stdout(io.StringIO()):  # Keras prints every captured tensor
        return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def convert_in_child(model) -> bytes:
    """`convert(model)` in a child process: TensorFlow's converter holds the GIL for seconds
    at a time (8 s seen for DenseNet-121), which would stall every other request of a server.

    Raises `ValueError` naming the model if the child fails.
    """
    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "model.keras")
        child = subprocess.run(
            [sys.executable, "-m", __spec__.name, folder],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            last_line = (child.stderr.strip().splitlines() or ["no message"])[-1]
            raise ValueError(
                f"converting {model.name} to LiteRT failed in a child process: {last_line}"
            )
        return (Path(folder) / "model.tflite").read_bytes()


class LiteRTForward:
    """`forward(batch)` -> model outputs, float32 in and out; safe to call from any thread.

    `isolated=True` converts in a child process (`convert_in_child`), for a serving app.
    """

    def __init__(self, model, isolated: bool = False) -> None:
        self._flatbuffer = convert_in_child(model) if isolated else convert(model)
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
            self._interpreters[batch_size] = (
                interpreter,
                source,
                interpreter.get_output_details()[0]["index"],
            )
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
                chunk = batch[start : start + CHUNK]
                padded = np.concatenate(
                    [chunk, np.zeros((CHUNK - len(chunk), *chunk.shape[1:]), np.float32)]
                )
                outputs.append(self._run(padded)[: len(chunk)])
            return np.concatenate(outputs)


if __name__ == "__main__":  # the child of `convert_in_child`: folder/model.keras -> model.tflite
    import keras

    folder = Path(sys.argv[1])
    (folder / "model.tflite").write_bytes(convert(keras.saving.load_model(folder / "model.keras")))
