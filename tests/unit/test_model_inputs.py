"""What the Fashion-MNIST model sees, for realistic uploads built from real test images."""

import io

import numpy as np
import pytest
from PIL import Image

from densenet_demo.inference.image_file import open_image
from densenet_demo.inference.model_inputs import FASHION_SIZE, fashion_input_and_box
from densenet_demo.training.data import load_fashion_mnist


@pytest.fixture(scope="module")
def items():
    """Twenty real Fashion-MNIST test images, two of each class."""
    test = load_fashion_mnist()["test"]
    picks = [i for c in range(10) for i in np.flatnonzero(test.labels == c)[:2]]
    return test.images[picks]


def model_input(image):
    """The 28x28 picture the Fashion-MNIST model sees for `image`."""
    return fashion_input_and_box(image)[0]


def similarity(a, b):
    """Best pixel correlation over shifts of up to 2 px: the model is trained with random
    2-px crops, so such shifts do not change what it sees."""
    b = b.astype(float).ravel()
    return max(
        float(np.corrcoef(np.roll(a.astype(float), (dy, dx), (0, 1)).ravel(), b)[0, 1])
        for dy in range(-2, 3)
        for dx in range(-2, 3)
    )


def photo(item, scale=12, invert=True, canvas=None, offset=(0, 0), seed=0):
    """An enlarged RGB 'photo' of a dataset item: dark on a light, noisy background."""
    big = np.asarray(
        Image.fromarray(item).resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC),
        dtype=float,
    )
    if canvas:
        page = np.zeros(canvas)
        page[offset[0] : offset[0] + big.shape[0], offset[1] : offset[1] + big.shape[1]] = big
        big = page
    if invert:
        big = 235 - big * 0.8  # a light-grey backdrop, a dark item
    noise = np.random.default_rng(seed).normal(0, 4, big.shape)
    grey = np.clip(big + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([grey, grey * 0.95, grey * 0.9], -1).astype(np.uint8))


def test_dataset_images_are_seen_almost_unchanged(items):
    scores = [similarity(model_input(Image.fromarray(item)), item) for item in items]
    assert min(scores) > 0.75 and np.median(scores) > 0.95


def test_dark_item_on_white_is_inverted_to_light_on_black(items):
    for index, item in enumerate(items):
        seen = model_input(photo(item, seed=index))
        assert seen.shape == (FASHION_SIZE, FASHION_SIZE) and seen.dtype == np.uint8
        assert np.median(np.concatenate([seen[0], seen[-1]])) < 30  # dark background
        assert similarity(seen, model_input(Image.fromarray(item))) > 0.85, index


def test_off_centre_item_is_cropped_and_centred(items):
    item = items[0]
    upload = photo(item, scale=4, canvas=(600, 500), offset=(420, 350))
    seen = model_input(upload)
    assert similarity(seen, model_input(Image.fromarray(item))) > 0.85


def test_transparent_cutout_is_composited_onto_the_background(items):
    item = items[4]
    light = photo(item, invert=True).convert("RGBA")
    alpha = np.where(np.asarray(light.convert("L")) < 200, 255, 0).astype(np.uint8)
    light.putalpha(Image.fromarray(alpha))
    buffer = io.BytesIO()
    light.save(buffer, format="PNG")
    seen = model_input(open_image(buffer.getvalue()))
    assert similarity(seen, model_input(Image.fromarray(item))) > 0.85


def test_exif_rotation_is_applied_before_anything_else(items):
    item = items[2]
    upright = photo(item, scale=6)
    stored = upright.rotate(90, expand=True)  # the camera stored it sideways ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... and says "rotate 90° clockwise to view"
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", exif=exif, quality=95)
    seen = model_input(open_image(buffer.getvalue()))
    assert similarity(seen, model_input(upright)) > 0.95
    assert similarity(seen, model_input(stored)) < 0.9


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (6000, 4000), (10_000, 10)])
def test_tiny_and_huge_images_give_a_valid_input(size):
    image = Image.new("L", size, 255)
    image.paste(0, (size[0] // 4, size[1] // 4, max(size[0] // 2, 1), max(size[1] // 2, 1)))
    seen = model_input(image)
    assert seen.shape == (FASHION_SIZE, FASHION_SIZE) and seen.dtype == np.uint8


def test_plain_blank_image_stays_blank():
    assert model_input(Image.new("RGB", (50, 50), (255, 255, 255))).max() == 0


def test_unsupported_source_is_refused_by_type():
    with pytest.raises(ValueError, match="image of type int is not supported"):
        open_image(42)
