"""`python -m densenet_demo predict` warns, as the page does, when a picture does not look like
what the model knows: one line on stderr, the classes still on stdout."""

import numpy as np
import pytest
from PIL import Image

from support import EXAMPLES, run_cli


@pytest.fixture
def noise(tmp_path):
    """A picture of nothing: random colours (the shipped model's domain check flags it)."""
    path = tmp_path / "noise.png"
    pixels = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def test_a_picture_unlike_clothing_gets_one_warning_line_on_stderr(noise):
    result = run_cli("predict", str(noise), "--top-k", "3")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 3  # the classes are still given
    warning = result.stderr.strip()
    assert len(warning.splitlines()) == 1
    assert warning.startswith(
        "warning: This picture does not look like the clothing this model knows"
    )
    assert "--model densenet121" in warning
    assert "**" not in warning and "Model menu" not in warning


def test_a_clothing_picture_gets_no_warning():
    result = run_cli("predict", str(EXAMPLES[0]), "--top-k", "3")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 3
    assert "warning" not in result.stderr
