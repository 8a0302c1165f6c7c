"""Turn an uploaded picture into what the Fashion-MNIST model was trained on.

Fashion-MNIST items are light on a black background, trimmed to the object, the long side
filling the 28-pixel frame. A phone photo is usually the opposite (a dark or coloured item on a
light background, off-centre, rotated by EXIF, maybe transparent), so each step below undoes
one of those differences. Pure functions of the pixels: no model involved.
"""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image, ImageOps

FASHION_SIZE = 28
WORKING_SIZE = 512  # larger uploads are first shrunk to this (bounded time, same result at 28 px)
OBJECT_THRESHOLD = 0.1  # of the brightest pixel: what counts as the object when cropping


def open_image(source) -> Image.Image:
    """A PIL image from a path, bytes, uint8 array or PIL image, EXIF orientation applied."""
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        image = Image.fromarray(source)
    elif isinstance(source, (bytes, bytearray)):
        image = Image.open(io.BytesIO(source))
    elif isinstance(source, (str, os.PathLike)):
        image = Image.open(source)
    else:
        raise ValueError(f"image of type {type(source).__name__} is not supported: give a file "
                         "path, bytes, a uint8 array or a PIL image")
    return ImageOps.exif_transpose(image)


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


def _square(pixels: np.ndarray) -> np.ndarray:
    """Pad with black to a centred square."""
    height, width = pixels.shape
    side = max(height, width)
    top, left = (side - height) // 2, (side - width) // 2
    square = np.zeros((side, side), dtype=pixels.dtype)
    square[top:top + height, left:left + width] = pixels
    return square


def to_fashion_input(image: Image.Image) -> np.ndarray:
    """uint8 (28, 28): the item light on black, cropped, centred, resized with antialiasing."""
    image = _flatten_transparency(image)
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")  # palette, CMYK, 16-bit, ...
    image = image.convert("L")
    if max(image.size) > WORKING_SIZE:
        image = image.copy()
        image.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.float32)
    if _border_level(pixels) > 127:  # a light background: invert to light-on-black
        pixels = 255.0 - pixels
    # Make the background black and the brightest part of the item white.
    background = _border_level(pixels)
    pixels = np.clip(pixels - background, 0, None)
    peak = float(pixels.max())
    if peak > 0:
        pixels *= 255.0 / peak
        rows = np.flatnonzero((pixels > OBJECT_THRESHOLD * 255).any(axis=1))
        cols = np.flatnonzero((pixels > OBJECT_THRESHOLD * 255).any(axis=0))
        pixels = pixels[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    square = Image.fromarray(_square(pixels.round().astype(np.uint8)))
    return np.asarray(square.resize((FASHION_SIZE, FASHION_SIZE), Image.Resampling.LANCZOS))
