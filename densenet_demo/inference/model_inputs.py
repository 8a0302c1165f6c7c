"""What an upload becomes for each kind of model, and how a model input is shown.

Fashion-MNIST items are light on a black background, trimmed to the object, the long side
filling the 28-pixel frame. A phone photo is usually the opposite (a dark or coloured item on a
light background, off-centre, rotated by EXIF, maybe transparent), so each step of
`fashion_input_and_box` undoes one of those differences. Keras' ImageNet DenseNets read the
centre of the picture, its shorter side resized to 256 px. Pure functions of the pixels: no
model involved. Each transform also returns the square of the upload it shows, which lays a
map of the model input (Grad-CAM) back onto the upload.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .image_file import WORKING_SIZE, flatten_transparency

FASHION_SIZE = 28
OBJECT_THRESHOLD = 0.1  # of the brightest pixel: what counts as the object when cropping
# Keras' "torch" mode: scale to [0, 1], then each channel standardised with ImageNet's statistics.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CROP_SIZE = 224
RESIZE_SIZE = 256  # shorter side before the centre crop: the paper's single-crop evaluation
PREVIEW_SIDE = 224  # a small model input (28x28) is shown enlarged to this, pixels kept sharp


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
    square[top : top + height, left : left + width] = pixels
    return square, top, left


def fashion_input_and_box(image: Image.Image) -> tuple[np.ndarray, tuple[float, ...]]:
    """uint8 (28, 28): the item light on black, cropped, centred, resized with antialiasing;
    and the square of `image` it shows, as (left, top, right, bottom) in `image`'s pixels. The
    crop is padded to a square, so the box may reach past the image's edges."""
    width, height = image.size
    image = flatten_transparency(image)
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
        pixels = pixels[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        crop_top, crop_left = int(rows[0]), int(cols[0])
    square, pad_top, pad_left = _square(pixels.round().astype(np.uint8))
    left, top, side = crop_left - pad_left, crop_top - pad_top, square.shape[0]
    box = (left * scale_x, top * scale_y, (left + side) * scale_x, (top + side) * scale_y)
    seen = Image.fromarray(square).resize((FASHION_SIZE, FASHION_SIZE), Image.Resampling.LANCZOS)
    return np.asarray(seen), box


def imagenet_input_and_box(image: Image.Image) -> tuple[np.ndarray, tuple[float, ...]]:
    """uint8 (224, 224, 3): RGB, shorter side resized to 256 (antialiased), centre crop; and
    the square of `image` it shows (left, top, right, bottom). The centre square is cut first
    and only it is resized: resizing the whole picture first would turn a 25-megapixel strip
    of 1 px height into billions of pixels."""
    image = flatten_transparency(image).convert("RGB")
    width, height = image.size
    side = min(width, height) * CROP_SIZE / RESIZE_SIZE
    box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    crop = image.resize((CROP_SIZE, CROP_SIZE), Image.Resampling.BILINEAR, box=box)
    return np.asarray(crop), box


def enlarged(seen: np.ndarray, side: int = PREVIEW_SIDE) -> Image.Image:
    """A model input as shown on the page: a small one scaled up by a whole factor to at most
    `side` pixels, pixels kept sharp."""
    height, width = seen.shape[:2]
    scale = max(1, side // max(height, width))
    return Image.fromarray(seen).resize((width * scale, height * scale), Image.Resampling.NEAREST)


# A card's preprocessing kind -> what an upload becomes, and the square of the upload it shows.
MODEL_INPUTS = {"fashion": fashion_input_and_box, "imagenet": imagenet_input_and_box}
