"""A fast start: the shipped model is served from its converted LiteRT file, checked against
its card, and TensorFlow is imported only for the first action that needs Keras."""

import dataclasses
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from gradio_client import Client, handle_file

from densenet_demo.inference.card import ModelCard
from densenet_demo.inference.classifier import WEIGHTS_DIR, load_classifier

from support import EXAMPLE, ROOT, launch_app, predict_over_http, stop

LOADED_TENSORFLOW = "_pywrap_tensorflow_internal"  # TensorFlow's native library, once imported


@pytest.mark.slow  # then builds the Keras model, in a child process
def test_the_shipped_model_predicts_without_importing_tensorflow():
    script = f"""
import sys
from densenet_demo.inference.classifier import load_classifier
classifier = load_classifier("fashion")
top = classifier.predict({str(EXAMPLE)!r}, top_k=1)
print(top[0][0], "tensorflow" in sys.modules, "keras" in sys.modules)
classifier.model  # the first Keras action
print("tensorflow" in sys.modules)
"""
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    before, after = child.stdout.splitlines()[-2:]
    assert before.split()[-2:] == ["False", "False"]
    assert after == "True"


@pytest.fixture
def shipped_copy(tmp_path):
    folder = tmp_path / "weights"
    shutil.copytree(WEIGHTS_DIR, folder)
    return folder


def test_a_tampered_converted_file_is_refused(shipped_copy):
    path = shipped_copy / "fashion.tflite"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"fashion.tflite does not match its model card"):
        load_classifier("fashion", shipped_copy)


@pytest.mark.slow  # converts with TensorFlow
def test_a_card_without_a_converted_file_is_converted_at_load(shipped_copy):
    card_path = shipped_copy / "fashion.json"
    card = ModelCard.read(card_path)
    card_path.write_text(dataclasses.replace(card, litert_file=None, litert_sha256=None).to_json())
    (shipped_copy / "fashion.tflite").unlink()
    images = np.load(ROOT / "tests" / "data" / "fashion-test-sample.npz")["images"][:32]
    converted_now = load_classifier("fashion", shipped_copy).predict_batch(images)
    shipped = load_classifier("fashion").predict_batch(images)
    assert np.abs(converted_now - shipped).max() <= 1e-5


@pytest.mark.server
def test_the_app_serves_predictions_before_tensorflow_and_loads_it_for_grad_cam(tmp_path):
    process, url = launch_app(tmp_path)
    try:
        maps = f"/proc/{process.pid}/maps"
        answer = predict_over_http(url, _upload(url))
        assert "event: complete" in answer, answer[:300]
        with open(maps) as mapped:
            assert LOADED_TENSORFLOW not in mapped.read()
        explained = Client(url, verbose=False).predict(
            handle_file(EXAMPLE), "fashion", 0.5, api_name="/explain"
        )
        assert "Grad-CAM for" in json.dumps(explained)
        with open(maps) as mapped:
            assert LOADED_TENSORFLOW in mapped.read()
    finally:
        stop(process)


def _upload(url: str) -> dict:
    import httpx

    with open(EXAMPLE, "rb") as file:
        response = httpx.post(f"{url}gradio_api/upload", files={"files": (EXAMPLE.name, file)})
    return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}
