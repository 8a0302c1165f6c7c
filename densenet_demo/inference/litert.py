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


OUTPUTS = ("features", "probabilities")  # the converted model's outputs, by name


def classifier_model(model):
    """`model` (a Keras DenseNet) with two named outputs: the pooled features the classifier
    layer reads, and its class probabilities. One forward pass so gives both what the app
    shows and what the out-of-domain check measures (`inference.domain`)."""
    import keras

    head = model.layers[-1]  # the Dense classifier; its input is the pooled features
    return keras.Model(model.inputs, dict(zip(OUTPUTS, (head.input, model.output))))


def convert(model) -> bytes:
    """The LiteRT flatbuffer of a Keras DenseNet, outputs as `classifier_model` names them."""
    import tensorflow as tf

    with contextlib.redirect_stdout(io.StringIO()):  # Keras prints every captured tensor
        return tf.lite.TFLiteConverter.from_keras_model(classifier_model(model)).convert()


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
    """`forward(batch)` -> (features, probabilities), float32 in and out; safe to call from
    any thread. Runs on the LiteRT runtime alone: serving a converted file needs no
    TensorFlow.

    Raises `ValueError` (naming `source`) for a flatbuffer that is not a converted DenseNet
    of `input_shape` with `classes` outputs.
    """

    def __init__(
        self, flatbuffer: bytes, input_shape: tuple[int, ...], classes: int, source: str = ""
    ) -> None:
        self._flatbuffer = flatbuffer
        self._input_shape = tuple(input_shape)
        self._interpreters: dict[int, tuple] = {}  # one per batch size: resizing reallocates
        self._lock = threading.Lock()  # an interpreter must not run on two threads at once
        source = source or "the converted model"
        try:
            interpreter, _, targets = self._open()
        except (ValueError, RuntimeError, KeyError) as error:
            raise ValueError(
                f"{source} is not a converted DenseNet classifier ({str(error)[:120]})"
            ) from None
        found = tuple(int(size) for size in interpreter.get_input_details()[0]["shape"][1:])
        widths = {
            output["index"]: int(output["shape"][-1]) for output in interpreter.get_output_details()
        }
        classes_found = widths[targets[1]]
        if found != self._input_shape or classes_found != classes:
            raise ValueError(
                f"{source} takes {found} inputs and gives {classes_found} classes, but its "
                f"model card says {self._input_shape} and {classes}"
            )

    def _open(self, batch_size: int | None = None) -> tuple:
        """(interpreter, input index, output indices in `OUTPUTS` order), resized to
        `batch_size` images and allocated, if given."""
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_content=self._flatbuffer, num_threads=THREADS)
        outputs = interpreter.get_signature_runner().get_output_details()
        source = interpreter.get_input_details()[0]["index"]
        if batch_size is not None:
            interpreter.resize_tensor_input(source, [batch_size, *self._input_shape])
            interpreter.allocate_tensors()
        return interpreter, source, tuple(outputs[name]["index"] for name in OUTPUTS)

    def _interpreter(self, batch_size: int) -> tuple:
        if batch_size not in self._interpreters:
            self._interpreters[batch_size] = self._open(batch_size)
        return self._interpreters[batch_size]

    def _run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        interpreter, source, targets = self._interpreter(len(batch))
        interpreter.set_tensor(source, batch)
        interpreter.invoke()
        return tuple(interpreter.get_tensor(target).copy() for target in targets)

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
                outputs.append([output[: len(chunk)] for output in self._run(padded)])
            return tuple(np.concatenate(parts) for parts in zip(*outputs))


if __name__ == "__main__":  # the child of `convert_in_child`: folder/model.keras -> model.tflite
    import keras

    folder = Path(sys.argv[1])
    (folder / "model.tflite").write_bytes(convert(keras.saving.load_model(folder / "model.keras")))
