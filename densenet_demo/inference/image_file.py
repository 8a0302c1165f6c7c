"""The one door for untrusted image files: only a few formats, a bounded pixel count, the
first frame, and one clear sentence (`ValueError`) for anything refused.

Uploads, data: URLs sent by API callers and CLI arguments all pass through `open_image` (or,
where Gradio opens the file itself, `check_image_file` first).
"""

from __future__ import annotations

import contextlib
import io
import math
import os

import numpy as np
from PIL import Image, ImageOps

WORKING_SIZE = 512  # JPEGs are decoded at reduced scale down to this (bounded time)
# What an upload may be. Only these decoders ever read a file (Pillow would try ~40 formats).
SUPPORTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
MAX_PIXELS = 25_000_000  # a 24-megapixel photo fits; decoding one takes at most ~100 MB (RGBA)
MAX_FILE_BYTES = 10 * 2**20  # larger uploads get HTTP 413 from the server (ui/hosting.py)
# Pillow's bomb check reads this process-wide global, so it is set once, here: every
# Image.open (Gradio's too) then raises above 2 x MAX_PIXELS. Between 1x and 2x Pillow only
# warns, so `_opened` compares the size itself; a warnings filter would not do: it is global
# state that any catch_warnings() block in another thread (Gradio has some) swaps out.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
UNREADABLE_IMAGE = (
    "This file could not be read as an image: upload a PNG, JPEG, WebP, GIF or BMP picture."
)


def _too_large(pixels: str) -> ValueError:
    side = math.isqrt(MAX_PIXELS)
    return ValueError(
        f"This image is too large: {pixels} pixels; the limit is {MAX_PIXELS:,} "
        f"pixels ({side:,} x {side:,})."
    )


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
                raise ValueError(
                    f"This {image.format} file is damaged or cut short: it could not be decoded."
                ) from None
    if isinstance(source, np.ndarray):
        source = Image.fromarray(source)
    if not isinstance(source, Image.Image):
        raise ValueError(
            f"image of type {type(source).__name__} is not supported: give a file "
            "path, bytes, a uint8 array or a PIL image"
        )
    _check_size(*source.size)
    return _standard_mode(ImageOps.exif_transpose(source))


def flatten_transparency(image: Image.Image) -> Image.Image:
    """Composite any alpha onto white, as a transparent cut-out is shown on a page."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image
