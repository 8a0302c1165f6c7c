"""The Classify endpoint through gradio_client, against the app serving a trained model."""

import shutil
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from densenet_demo.training.data import CLASS_NAMES

from support import EXAMPLES, launch_app, stop


@pytest.fixture(scope="module")
def classify_client(classify_app_url):
    return Client(classify_app_url, verbose=False)


def test_predict_returns_the_top_k_classes(classify_client):
    label, preview, timing = classify_client.predict(
        handle_file(str(EXAMPLES[0])), 3, api_name="/predict"
    )
    assert label["label"] in CLASS_NAMES and len(label["confidences"]) == 3
    confidences = [c["confidence"] for c in label["confidences"]]
    assert confidences == sorted(confidences, reverse=True)
    assert preview and timing.startswith("Predicted in")


def test_concurrent_callers_get_the_same_answers_as_one_caller(classify_client, classify_app_url):
    def top(path):
        client = Client(classify_app_url, verbose=False)
        return client.predict(handle_file(str(path)), 10, api_name="/predict")[0]

    # Sixteen different files, so that each answer can be checked against its own file's.
    alone = {path.name: top(path) for path in EXAMPLES[:16]}
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(top, EXAMPLES[:16]))
    for path, result in zip(EXAMPLES[:16], together):
        # Compared label by label: the ranking of near-equal scores may differ in the last bit.
        expected = {c["label"]: c["confidence"] for c in alone[path.name]["confidences"]}
        got = {c["label"]: c["confidence"] for c in result["confidences"]}
        assert got.keys() == expected.keys()
        assert all(abs(got[label] - expected[label]) < 1e-5 for label in got)


def test_sixteen_callers_sending_the_same_picture_ten_times_all_get_answers(classify_app_url):
    """Many people clicking the same example: identical results land on one path of Gradio's
    cache, which Gradio 6.31 rewrote in place while others downloaded it (ui/gradio_fixes.py)."""

    def caller(_):
        client = Client(classify_app_url, verbose=False)
        return [
            client.predict(handle_file(str(EXAMPLES[0])), 3, api_name="/predict")[0]["label"]
            for _ in range(10)
        ]

    with ThreadPoolExecutor(16) as pool:
        labels = [label for answers in pool.map(caller, range(16)) for label in answers]
    assert len(labels) == 160 and len(set(labels)) == 1  # every call answered, alike


def test_a_file_that_is_not_an_image_gets_one_clear_sentence(classify_client, tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("this is text, not a picture")
    with pytest.raises(AppError, match="could not be read as an image"):
        classify_client.predict(handle_file(str(fake)), 5, api_name="/predict")
    assert (
        classify_client.predict(handle_file(str(EXAMPLES[1])), 1, api_name="/predict")[0]["label"]
        in CLASS_NAMES
    )


def test_top_k_outside_1_to_10_is_refused_by_name(classify_client):
    with pytest.raises(AppError, match="Classes to show"):
        classify_client.predict(handle_file(str(EXAMPLES[0])), 11, api_name="/predict")


@pytest.mark.server
def test_without_weights_the_classify_tab_says_why_in_one_sentence(
    tmp_path_factory, tiny_weights_dir
):
    # The card without its weights: the folder's card wins over the shipped weights/.
    folder = tmp_path_factory.mktemp("card-only")
    shutil.copy(tiny_weights_dir / "fashion.json", folder)
    process, url = launch_app(folder, DENSENET_WEIGHTS_DIR=str(folder))
    try:
        config = httpx.get(url + "config", timeout=10).text
        assert "The fashion model is unavailable (" in config
        assert "fashion.weights.h5 does not match its model card" in config
        assert "python -m densenet_demo train" in config
    finally:
        stop(process)
