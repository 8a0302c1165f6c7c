"""The API's /predict says what the page says about a prediction, in plain text: no Markdown,
no words about the page's controls."""

import numpy as np
from gradio_client import handle_file
from PIL import Image

from support import EXAMPLES


def test_predict_warns_about_a_picture_unlike_clothing_in_plain_text(client, tmp_path):
    noise = tmp_path / "noise.png"
    pixels = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(noise)
    _, _, about = client.predict(handle_file(str(noise)), 3, api_name="/predict")
    assert about.startswith("This picture does not look like the clothing this model knows")
    assert "model='densenet121'" in about and "Predicted in" in about
    assert "**" not in about and "Model menu" not in about and "\n" not in about


def test_predict_of_clothing_says_only_the_time(client):
    _, _, about = client.predict(handle_file(str(EXAMPLES[0])), 3, api_name="/predict")
    assert about.startswith("Predicted in") and "**" not in about
