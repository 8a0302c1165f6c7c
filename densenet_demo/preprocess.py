"""Turn an uploaded picture into what the Fashion-MNIST model was trained on.

Fashion-MNIST items are light on a black background, trimmed to the object, the long side
filling the 28-pixel frame. A phone photo is usually the opposite (a dark or coloured item on a
light background, off-centre, rotated by EXIF, maybe transparent), so each step below undoes
one of those differences. Pure functions of the pixels: no model involved.

`open_image` is the one door for untrusted files: only a few formats, a bounded pixel count,
the first frame, and one clear sentence (`ValueError`) for anything it refuses.
"""

from __future__ import annotations

import contextlib
import io
import math
import os

import numpy as np
from PIL import Image, ImageOps

FASHION_SIZE = 28
WORKING_SIZE = 512  # larger uploads are first shrunk to this (bounded time, same result at 28 px)
OBJECT_THRESHOLD = 0.1  # of the brightest pixel: what counts as the object when cropping

# What an upload may be. Only these decoders ever read a file (Pillow would try ~40 formats).
SUPPORTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
MAX_PIXELS = 25_000_000  # a 24-megapixel photo fits; decoding one takes at most ~100 MB (RGBA)
MAX_FILE_BYTES = 10 * 2**20  # larger uploads are refused by the server (HTTP 413), see hosting.py
# Pillow's bomb check reads this process-wide global, so it is set once, here: every
# Image.open (Gradio's too) then raises above 2 x MAX_PIXELS. Between 1x and 2x Pillow only
# warns, so `_opened` compares the size itself; a warnings filter would not do: it is global
# state that any catch_warnings() block in another thread (Gradio has some) swaps out.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
UNREADABLE_IMAGE = ("This file could not be read as an image: upload a PNG, JPEG, WebP, GIF or "
                    "BMP picture.")


def _too_large(pixels: str) -> ValueError:
    side = math.isqrt(MAX_PIXELS)
    return ValueError(f"This image is too large: {pixels} pixels; the limit is {MAX_PIXELS:,} "
                      f"pixels ({side:,} x {side:,}).")


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise _too_large(f"{width:,} x {height:,}")


@contextlib.contextmanager
def _opened(source):
    """An image file (path or bytes) with only its header read, refused unless it is one of
    `SUPPORTED_FORMATS` within `MAX_PIXELS`."""
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        image = Image.open(stream, formats=SUPPORTED_FORMATS)
    except FileNotFoundError:
        raise
    except Image.DecompressionBombError:  # Pillow's own refusal, above 2 x MAX_PIXELS
        raise _too_large(f"over {2 * MAX_PIXELS:,}") from None
    except Image.DecompressionBombWarning:  # where a warnings filter makes it an error
        raise _too_large(f"over {MAX_PIXELS:,}") from None
    except (OSError, SyntaxError, EOFError):  # UnidentifiedImageError is an OSError
        raise ValueError(UNREADABLE_IMAGE) from None
    with image:
        _check_size(*image.size)
        yield image


def check_image_file(source) -> str:
    """The format of a file (path or bytes), e.g. "PNG", read from its header alone (no pixel
    decoded); `ValueError` says why `open_image` would refuse it for its format or size."""
    with _opened(source) as image:
        return image.format


def _standard_mode(image: Image.Image) -> Image.Image:
    """The image in mode L, LA, RGB or RGBA. 16-bit greyscale is scaled to 8 bits: Pillow's
    convert('L') clips it at 255, which turns almost all of it white."""
    if image.mode.startswith("I"):  # I;16 from a 16-bit PNG
        pixels = np.asarray(image, dtype=np.float32) / 257
        return Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8))
    if image.has_transparency_data:  # alpha, or a palette/tRNS transparent colour
        return image if image.mode in ("RGBA", "LA") else image.convert("RGBA")
    return image if image.mode in ("L", "RGB") else image.convert("RGB")  # CMYK, 1-bit, ...


def open_image(source) -> Image.Image:
    """The first frame of a path, bytes, uint8 array or PIL image, decoded, EXIF orientation
    applied, in mode L, LA, RGB or RGBA.

    A file is decoded only if it is one of `SUPPORTED_FORMATS` within `MAX_PIXELS`;
    `ValueError` says in one sentence why one is refused (unreadable, too large, damaged).
    """
    if isinstance(source, (bytes, bytearray, str, os.PathLike)):
        with _opened(source) as image:
            # JPEG only: decode at 1/2 to 1/8 scale while both sides stay >= WORKING_SIZE.
            image.draft(None, (WORKING_SIZE, WORKING_SIZE))
            try:
                image.load()  # frame 0: the first frame of an animated GIF or WebP
                return _standard_mode(ImageOps.exif_transpose(image))
            except (OSError, SyntaxError, EOFError):
                raise ValueError(f"This {image.format} file is damaged or cut short: it could "
                                 "not be decoded.") from None
    if isinstance(source, np.ndarray):
        source = Image.fromarray(source)
    if not isinstance(source, Image.Image):
        raise ValueError(f"image of type {type(source).__name__} is not supported: give a file "
                         "path, bytes, a uint8 array or a PIL image")
    _check_size(*source.size)
    return _standard_mode(ImageOps.exif_transpose(source))


def _flatten_transparency(image: Image.Image) -> Image.Image:
    """Composite any alpha onto white, as a transparent cut-out is shown on a page."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image


def _border_level(pixels: np.ndarray) -> float:
    """Median of the outermost rows and columns: the background's brightness."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return float(np.median(border))


def _square(pixels: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Pad with black to a centred square; also the (top, left) where `pixels` landed."""
    height, width = pixels.shape
    side = max(height, width)
    top, left = (side - height) // 2, (side - width) // 2
    square = np.zeros((side, side), dtype=pixels.dtype)
    square[top:top + height, left:left + width] = pixels
    return square, top, left


def to_fashion_input(image: Image.Image) -> np.ndarray:
    """uint8 (28, 28): the item light on black, cropped, centred, resized with antialiasing."""
    return fashion_input_and_box(image)[0]


def fashion_input_and_box(image: Image.Image) -> tuple[np.ndarray, tuple[float, ...]]:
    """`to_fashion_input(image)` and the square of `image` it shows, as (left, top, right,
    bottom) in `image`'s pixels: what maps a map of the 28x28 input (Grad-CAM) back onto the
    upload. The crop is padded to a square, so the box may reach past the image's edges."""
    width, height = image.size
    image = _flatten_transparency(image)
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")  # palette, CMYK, 16-bit, ...
    image = image.convert("L")
    if max(image.size) > WORKING_SIZE:
        image = image.copy()
        image.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.LANCZOS)
    scale_x, scale_y = width / image.width, height / image.height  # undoes the shrinking
    pixels = np.asarray(image, dtype=np.float32)
    if _border_level(pixels) > 127:  # a light background: invert to light-on-black
        pixels = 255.0 - pixels
    # Make the background black and the brightest part of the item white.
    background = _border_level(pixels)
    pixels = np.clip(pixels - background, 0, None)
    peak = float(pixels.max())
    crop_top = crop_left = 0
    if peak > 0:
        pixels *= 255.0 / peak
        rows = np.flatnonzero((pixels > OBJECT_THRESHOLD * 255).any(axis=1))
        cols = np.flatnonzero((pixels > OBJECT_THRESHOLD * 255).any(axis=0))
        pixels = pixels[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        crop_top, crop_left = int(rows[0]), int(cols[0])
    square, pad_top, pad_left = _square(pixels.round().astype(np.uint8))
    left, top, side = crop_left - pad_left, crop_top - pad_top, square.shape[0]
    box = (left * scale_x, top * scale_y, (left + side) * scale_x, (top + side) * scale_y)
    seen = Image.fromarray(square).resize((FASHION_SIZE, FASHION_SIZE), Image.Resampling.LANCZOS)
    return np.asarray(seen), box
