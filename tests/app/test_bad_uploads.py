"""Every upload gets a prediction or one clear sentence, and the server keeps serving.

The corpus is generated here from the shipped example images: nothing is downloaded. Each file
is checked through the Classify handler itself (fast), a representative subset through the
running app, and the upload size limit with raw HTTP.
"""

import io
import json
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import gradio as gr
import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from densenet_demo.inference.image_file import (
    MAX_FILE_BYTES,
    MAX_PIXELS,
    check_image_file,
    open_image,
)
from densenet_demo.inference.service import ModelRegistry
from densenet_demo.training.data import CLASS_NAMES
from densenet_demo.ui.classify_tab import ClassifyHandlers

from support import EXAMPLES, HANG_GUARD_S, inline_image, predict_over_http

UNREADABLE = "could not be read as an image: upload a PNG, JPEG, WebP, GIF or BMP"

# name -> the sentence it is refused with (a regular expression)
REFUSED = {
    "empty.png": UNREADABLE,
    "random-bytes.jpg": UNREADABLE,
    "notes.png": UNREADABLE,  # a text file with an image's name
    "drawing.svg": UNREADABLE,
    "scan.tiff": UNREADABLE,  # a real image, in a format the app does not decode
    "cut.jpg": "This JPEG file is damaged or cut short",
    "cut.png": "This PNG file is damaged or cut short",
    "bomb.png": f"too large: over {2 * MAX_PIXELS:,} pixels; the limit is {MAX_PIXELS:,}",
    # Where Pillow itself only warns (between 1x and 2x its limit).
    "big.png": f"too large: 6,000 x 6,000 pixels; the limit is {MAX_PIXELS:,}",
}
ACCEPTED = (
    "dot.png",
    "strip.png",
    "deep.png",
    "cmyk.jpg",
    "palette.png",
    "cutout-la.png",
    "animated.gif",
    "animated.webp",
    "rotated.jpg",
    "photo.jpg",
)


def item(index):
    """A real Fashion-MNIST test image (28x28, light on black)."""
    return np.asarray(Image.open(EXAMPLES[index]))


def photo(index, scale=8):
    """An enlarged 'photo' of an item: dark on a light grey background, uint8 greyscale."""
    big = Image.fromarray(item(index)).resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    return (235 - np.asarray(big, dtype=float) * 0.8).astype(np.uint8)


def encoded(image, format, **options):
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def png_of_zeros(width, height):
    """A valid 1-bit black PNG, streamed: 30,000 x 30,000 pixels compress to ~110 KB."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    compressor = zlib.compressobj(9)
    rows = bytes(1 + (width + 7) // 8) * 1000  # filter byte + packed bits, 1000 rows at a time
    parts = [compressor.compress(rows) for _ in range(height // 1000)]
    parts += [compressor.compress(rows[: len(rows) // 1000 * (height % 1000)]), compressor.flush()]
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def animation(first, second, format):
    frames = [Image.fromarray(first).convert("RGB"), Image.fromarray(second).convert("RGB")]
    return encoded(
        frames[0],
        format,
        save_all=True,
        append_images=frames[1:],
        duration=100,
        loop=0,
        **({"lossless": True} if format == "WEBP" else {}),
    )


def cutout(index, mode):
    """The item on a transparent background that hides noise (LA) or black (palette)."""
    grey = photo(index)
    opaque = grey < 200
    noise = np.random.default_rng(index).integers(0, 256, grey.shape, dtype=np.uint8)
    hidden = np.where(opaque, grey, noise)
    alpha = np.where(opaque, 255, 0).astype(np.uint8)
    if mode == "LA":
        return encoded(Image.fromarray(np.stack([hidden, alpha], -1), "LA"), "PNG")
    palette = Image.fromarray(np.where(opaque, grey // 2 + 1, 0).astype(np.uint8), "P")
    palette.putpalette([0, 0, 0] + [min(2 * i, 255) for i in range(1, 256) for _ in range(3)])
    return encoded(palette, "PNG", transparency=0)


def corpus_files():
    strip = np.full((10, 10_000), 235, np.uint8)
    strip[3:7, 4000:6000] = 40
    stored_sideways = Image.fromarray(photo(2)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    jpeg = encoded(Image.fromarray(photo(5)).convert("RGB"), "JPEG", quality=95)
    noisy = np.random.default_rng(1).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    lossless_png = encoded(Image.fromarray(noisy), "PNG")
    return {
        "empty.png": b"",
        "random-bytes.jpg": np.random.default_rng(0).bytes(5000),
        "notes.png": b"this is text, not a picture\n" * 20,
        "drawing.svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b'<rect width="50" height="80" fill="black"/></svg>',
        "scan.tiff": encoded(Image.fromarray(photo(0)), "TIFF"),
        "cut.jpg": jpeg[: len(jpeg) * 6 // 10],
        "cut.png": lossless_png[: len(lossless_png) * 6 // 10],
        "bomb.png": png_of_zeros(30_000, 30_000),
        "big.png": png_of_zeros(6000, 6000),
        "dot.png": encoded(Image.new("L", (1, 1), 128), "PNG"),
        "strip.png": encoded(Image.fromarray(strip), "PNG"),
        "deep.png": encoded(Image.fromarray(photo(3).astype(np.uint16) * 257), "PNG"),
        "cmyk.jpg": encoded(Image.fromarray(photo(4)).convert("CMYK"), "JPEG", quality=95),
        "palette.png": cutout(6, "P"),
        "cutout-la.png": cutout(7, "LA"),
        "animated.gif": animation(photo(8), photo(9), "GIF"),
        "animated.webp": animation(photo(8), photo(9), "WEBP"),
        "rotated.jpg": encoded(stored_sideways.convert("RGB"), "JPEG", exif=exif, quality=95),
        "photo.jpg": jpeg,
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uploads")
    paths = {}
    for name, data in corpus_files().items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


@pytest.fixture(scope="module")
def service(tiny_weights_dir):
    """The Classify tab's handlers over the tiny model."""
    return ClassifyHandlers(ModelRegistry(tiny_weights_dir))


def within_guard(function, *args):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result(timeout=HANG_GUARD_S)


def seen(service, source):
    return service.models.service("fashion").classifier.model_input(source).astype(float)


def correlation(a, b):
    return float(np.corrcoef(np.asarray(a, float).ravel(), np.asarray(b, float).ravel())[0, 1])


def test_the_corpus_covers_every_case():
    assert set(corpus_files()) == set(REFUSED) | set(ACCEPTED)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_bad_upload_is_refused_with_one_clear_sentence(service, corpus, name):
    with pytest.raises(gr.Error, match=REFUSED[name]) as error:
        within_guard(service.classify, str(corpus[name]), 5)
    assert error.value.message.count(". ") == 0 and error.value.message.endswith(".")


@pytest.mark.parametrize("name", ACCEPTED)
def test_an_unusual_but_valid_upload_is_classified(service, corpus, name):
    result = within_guard(service.classify, str(corpus[name]), 5)
    label, preview, timing = result["top_classes"], result["model_input"], result["about"]
    assert len(label) == 5 and set(label) <= set(CLASS_NAMES)
    assert preview.size == (28 * 8, 28 * 8) and timing.startswith("Predicted in")


def test_a_bomb_is_refused_from_its_header_before_any_pixel_is_decoded(corpus):
    # Signature, IHDR and the first bytes of IDAT: the pixels themselves are missing.
    header_only = corpus["bomb.png"].read_bytes()[:64]
    with pytest.raises(ValueError, match="too large"):
        check_image_file(header_only)
    with pytest.raises(ValueError, match="too large"):  # not "damaged": never decoded
        open_image(header_only)


def test_16_bit_greyscale_is_scaled_not_clipped(service, corpus):
    eight_bit = Image.fromarray(photo(3))
    assert np.array_equal(seen(service, corpus["deep.png"]), seen(service, eight_bit))


def test_cmyk_jpeg_is_seen_like_its_rgb_original(service, corpus):
    assert (
        correlation(seen(service, corpus["cmyk.jpg"]), seen(service, Image.fromarray(photo(4))))
        > 0.98
    )


@pytest.mark.parametrize("name, index", [("palette.png", 6), ("cutout-la.png", 7)])
def test_transparent_pixels_are_ignored_whatever_they_hide(service, corpus, name, index):
    grey = photo(index)
    on_white = np.where(grey < 200, grey, 255).astype(np.uint8)
    assert correlation(seen(service, corpus[name]), seen(service, Image.fromarray(on_white))) > 0.95


@pytest.mark.parametrize("name", ["animated.gif", "animated.webp"])
def test_an_animation_is_seen_as_its_first_frame(service, corpus, name):
    upload = seen(service, corpus[name])
    first, second = (
        seen(service, Image.fromarray(photo(8))),
        seen(service, Image.fromarray(photo(9))),
    )
    assert correlation(upload, first) > 0.95 > correlation(upload, second)


def test_exif_rotation_is_applied(service, corpus):
    upright = seen(service, Image.fromarray(photo(2)))
    assert correlation(seen(service, corpus["rotated.jpg"]), upright) > 0.95


def test_a_thin_strip_is_seen_as_a_thin_line(service, corpus):
    rows, cols = np.nonzero(seen(service, corpus["strip.png"]) > 16)
    assert np.ptp(rows) <= 1 and np.ptp(cols) >= 24


def test_images_in_memory_are_held_to_the_same_pixel_limit():
    with pytest.raises(ValueError, match="too large: 6,000 x 6,000 pixels"):
        open_image(np.zeros((6000, 6000), np.uint8))


# Through the running app: the same files, as a browser or gradio_client sends them.


@pytest.fixture(scope="module")
def classify_client(classify_app_url):
    return Client(classify_app_url, verbose=False)


def predict(client, path, top_k=5):
    return client.submit(handle_file(str(path)), top_k, api_name="/predict").result(
        timeout=HANG_GUARD_S
    )


@pytest.mark.parametrize(
    "name", ["empty.png", "notes.png", "drawing.svg", "scan.tiff", "cut.jpg", "bomb.png", "big.png"]
)
def test_the_app_refuses_a_bad_upload_and_keeps_serving(classify_client, corpus, name):
    with pytest.raises(AppError, match=REFUSED[name]):
        predict(classify_client, corpus[name])
    assert predict(classify_client, EXAMPLES[0], 1)[0]["label"] in CLASS_NAMES


def preview_pixels(path):
    """The 28x28 model input back from the app's enlarged preview (centre of each 8x8 cell)."""
    return np.asarray(Image.open(path).convert("L"), float)[4::8, 4::8]


@pytest.mark.parametrize(
    "name", ["deep.png", "cutout-la.png", "palette.png", "animated.gif", "strip.png", "dot.png"]
)
def test_the_app_sees_an_upload_as_sent(classify_client, service, corpus, name):
    """Gradio hands the file over unconverted: its alpha and 16 bits reach open_image."""
    label, preview, _ = predict(classify_client, corpus[name])
    assert label["label"] in CLASS_NAMES
    expected = seen(service, corpus[name])
    if expected.std() == 0:
        assert np.abs(preview_pixels(preview) - expected).max() < 8
    else:
        assert correlation(preview_pixels(preview), expected) > 0.98


def data_url(path):
    return inline_image(path.read_bytes())


def test_a_bomb_sent_as_a_data_url_is_refused_before_gradio_decodes_it(classify_app_url, corpus):
    """The header check runs before anything else reads a data: URL, and names the reason."""
    refused = predict_over_http(classify_app_url, data_url(corpus["bomb.png"]))
    assert refused.startswith("event: error") and "too large: over 50,000,000 pixels" in refused
    assert predict_over_http(classify_app_url, data_url(EXAMPLES[0])).startswith("event: complete")


@pytest.mark.parametrize("name", ["deep.png", "cutout-la.png", "animated.gif"])
def test_a_data_url_is_seen_as_sent(classify_app_url, service, corpus, name):
    """Kept as sent, like an upload (Gradio's own handling saved it again as WebP, and a 16-bit
    grey came out all white)."""
    answer = predict_over_http(classify_app_url, data_url(corpus[name]))
    assert answer.startswith("event: complete")
    preview = json.loads(answer.split("data: ", 1)[1])[1]
    shown = preview_pixels(io.BytesIO(httpx.get(preview["url"], timeout=10).content))
    assert correlation(shown, seen(service, corpus[name])) > 0.98


def test_an_upload_over_the_size_limit_is_refused_with_413(classify_app_url):
    upload = classify_app_url + "gradio_api/upload"
    at_limit = httpx.post(upload, files={"files": ("a.png", bytes(MAX_FILE_BYTES))}, timeout=60)
    assert at_limit.status_code == 200
    over = httpx.post(upload, files={"files": ("b.png", bytes(MAX_FILE_BYTES + 1))}, timeout=60)
    assert over.status_code == 413 and "maximum allowed size" in over.text
