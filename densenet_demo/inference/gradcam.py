"""Grad-CAM (Selvaraju et al. 2017): which parts of the picture drove the model to a class.

The class score is differentiated with respect to the last convolutional feature map; each
channel is weighted by its gradient averaged over the map, and the ReLU of the weighted sum of
channels is the heat map. It runs on the Keras model through `tf.GradientTape` (the LiteRT fast
path has no gradients), compiled once per model and layer. `overlay` colours a heat map and
blends it onto a picture: the model's input, or an upload through the box it was cut from;
`explain` prepares both for a classifier's top class.
"""

from __future__ import annotations

import math
import threading
import weakref
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from PIL import Image
from plotly.colors import hex_to_rgb, sequential

from .image_file import flatten_transparency, open_image
from .model_inputs import PREVIEW_SIDE, enlarged

if TYPE_CHECKING:
    from .classifier import Classifier

DISPLAY_SIDE = 512  # the upload is shown at most this large: a 25 MP overlay helps nobody
# Blue (no evidence) to red (the strongest): Turbo, a perceptually smoothed jet.
HEATMAP_COLORS = np.array([hex_to_rgb(colour) for colour in sequential.Turbo], np.float32)


def default_layer_name(model) -> str:
    """The layer feeding the model's last global average pooling: its final feature map (the
    final BN-ReLU, 'relu', in Keras' DenseNets; the last concatenation in the article's style).

    Raises `ValueError` for a model without one; pass `layer_name` to `gradcam` then.
    """
    import keras

    for pooling in reversed(model.layers):
        if isinstance(pooling, keras.layers.GlobalAveragePooling2D):
            return next(layer.name for layer in model.layers if layer.output is pooling.input)
    raise ValueError(
        f"model {model.name!r} has no global average pooling layer to find its last "
        "feature map by: give layer_name, a layer with a 4-D output"
    )


class _GradCam:
    """Grad-CAM of one model at one layer, traced once (fixed input signature) and reused."""

    def __init__(self, model, layer_name: str) -> None:
        import keras
        import tensorflow as tf

        try:
            features = model.get_layer(layer_name).output
        except ValueError:
            raise ValueError(
                f"layer_name={layer_name!r} is invalid: model {model.name!r} has "
                "no layer of that name"
            ) from None
        if len(features.shape) != 4:
            raise ValueError(
                f"layer_name={layer_name!r} is invalid: its output has shape "
                f"{tuple(features.shape)}; allowed a layer with a 4-D feature map"
            )
        # The score is the last layer's pre-activation: a confident softmax saturates (its
        # gradient vanishes, exactly 0 in float32), while the logit keeps the same ranking.
        last = model.layers[-1]
        self._dense = last if isinstance(last, keras.layers.Dense) else None
        if self._dense is not None or isinstance(last, keras.layers.Activation):
            scores = last.input
        else:
            scores = model.output
        self.classes = int(model.output.shape[-1])
        self.input_shape = tuple(model.input_shape[1:])
        self._model = keras.Model(model.inputs, [features, scores])
        self.compute = tf.function(
            self._compute,
            input_signature=[
                tf.TensorSpec((None, *self.input_shape), tf.float32),
                tf.TensorSpec((None,), tf.int32),
            ],
        )

    def _compute(self, images, class_indices):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(images)  # records the path even through frozen or weightless layers
            features, scores = self._model(images, training=False)
            if self._dense is not None:
                scores = tf.matmul(scores, self._dense.kernel)
                if self._dense.use_bias:
                    scores = scores + self._dense.bias
            # Images are independent in inference, so one gradient of the sum serves all.
            chosen = tf.gather(scores, class_indices, batch_dims=1)
        gradients = tape.gradient(chosen, features)
        weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
        heat = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))
        return tf.math.divide_no_nan(heat, tf.reduce_max(heat, axis=(1, 2), keepdims=True))


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {layer: _GradCam}
_COMPILING = threading.Lock()


def _grad_cam_for(model, layer_name: str | None) -> _GradCam:
    layer_name = default_layer_name(model) if layer_name is None else layer_name
    with _COMPILING:
        per_layer = _COMPILED.setdefault(model, {})
        if layer_name not in per_layer:
            per_layer[layer_name] = _GradCam(model, layer_name)
        return per_layer[layer_name]


def _class_indices(class_index, count: int, classes: int) -> np.ndarray:
    indices = [class_index] if np.ndim(class_index) == 0 else list(class_index)
    allowed = f"an integer from 0 to {classes - 1}" + (f", or {count} of them" if count > 1 else "")
    if len(indices) == 1:
        indices = indices * count
    if len(indices) != count or any(
        isinstance(i, (bool, np.bool_))
        or not isinstance(i, (int, np.integer))
        or not 0 <= i < classes
        for i in indices
    ):
        raise ValueError(f"class_index={class_index!r} is invalid: allowed {allowed}")
    return np.asarray(indices, np.int32)


def gradcam(model, inputs, class_index, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heat maps, float32 in [0, 1], at the feature map's own size (h, w).

    `inputs`: one model input (H, W, C) or a batch (N, H, W, C), already preprocessed as the
    model expects (for the Fashion model, the standardised 28x28 picture). `class_index`: the
    class to explain, one for all images or one per image. `layer_name`: the feature map,
    default `default_layer_name(model)`. Returns (h, w) for one input, (N, h, w) for a batch;
    each map is scaled so its peak is 1, all zeros where nothing supports the class. The maps
    stay at the layer's resolution (7x7 for DenseNet-121 at 224 px, 3x3 for the Fashion model)
    so that `overlay` resamples them once, smoothly, to whatever picture shows them.

    Raises `ValueError` naming `inputs`, `class_index` or `layer_name` when it does not fit
    the model. The model is compiled on its first call per layer and reused (weakly cached).
    """
    explainer = _grad_cam_for(model, layer_name)
    images = np.asarray(inputs, np.float32)
    single = images.ndim == len(explainer.input_shape)
    batch = images[None] if single else images
    if (
        batch.ndim != len(explainer.input_shape) + 1
        or any(
            expected is not None and size != expected
            for size, expected in zip(batch.shape[1:], explainer.input_shape)
        )
        or not batch.shape[0]
        or not np.isfinite(batch).all()
    ):
        shape = tuple("?" if size is None else size for size in explainer.input_shape)
        raise ValueError(
            f"inputs of shape {np.shape(inputs)} are invalid: allowed finite "
            f"numbers shaped {shape} or (N, {', '.join(map(str, shape))})"
        )
    indices = _class_indices(class_index, len(batch), explainer.classes)
    heat = explainer.compute(batch, indices).numpy()
    return heat[0] if single else heat


def _check_box(box, size: tuple[int, int]) -> tuple[float, float, float, float]:
    if box is None:
        return 0.0, 0.0, float(size[0]), float(size[1])
    try:
        left, top, right, bottom = (float(edge) for edge in box)
    except (TypeError, ValueError):
        left = top = right = bottom = math.nan
    if not all(map(math.isfinite, (left, top, right, bottom))) or right <= left or bottom <= top:
        raise ValueError(
            f"box={box!r} is invalid: allowed (left, top, right, bottom), finite "
            "numbers with left < right and top < bottom"
        )
    return left, top, right, bottom


def heatmap_on_image(heatmap, size: tuple[int, int], box=None) -> Image.Image:
    """The heat map (values in [0, 1]) resampled smoothly (bicubic) onto a picture of `size`
    (width, height), as 8-bit levels (mode L): 255 the strongest evidence, 0 none or outside
    the area the model saw.

    `box`: where the model's input lies in the picture, (left, top, right, bottom) in its
    pixels (e.g. from `model_inputs.fashion_input_and_box`); None when the picture is the
    input. Raises `ValueError` naming `heatmap` or `box` when either is malformed.
    """
    heat = np.asarray(heatmap, np.float32)
    if (
        heat.ndim != 2
        or not heat.size
        or not np.isfinite(heat).all()
        or heat.min() < 0
        or heat.max() > 1
    ):
        raise ValueError(
            f"heatmap of shape {heat.shape} is invalid: allowed a 2-D array of numbers from 0 to 1"
        )
    left, top, right, bottom = _check_box(box, size)
    rows, cols = heat.shape
    scale_x, scale_y = cols / (right - left), rows / (bottom - top)
    width, height = size
    # The part of the box inside the picture, to whole pixels (at most half a pixel off).
    x0, y0 = max(0, round(left)), max(0, round(top))
    x1, y1 = min(width, round(right)), min(height, round(bottom))
    placed = Image.new("L", size, 0)
    if x1 > x0 and y1 > y0:
        # Resizing just the matching part of the heat map is separable, so ~10x faster on a
        # photo than an affine transform of the whole.
        source = (
            max(0.0, (x0 - left) * scale_x),
            max(0.0, (y0 - top) * scale_y),
            min(cols, (x1 - left) * scale_x),
            min(rows, (y1 - top) * scale_y),
        )
        levels = Image.fromarray(np.round(heat * 255).astype(np.uint8))
        placed.paste(
            levels.resize((x1 - x0, y1 - y0), Image.Resampling.BICUBIC, box=source), (x0, y0)
        )
    return placed


# One lookup table per colour channel: 256 heat levels interpolated along HEATMAP_COLORS.
_CHANNEL_TABLES = [
    np.interp(
        np.linspace(0, 1, 256), np.linspace(0, 1, len(HEATMAP_COLORS)), HEATMAP_COLORS[:, channel]
    )
    .round()
    .astype(int)
    .tolist()
    for channel in range(3)
]


def check_opacity(opacity) -> float:
    """`opacity` as a float; `ValueError` names it unless a number from 0 to 1."""
    if (
        isinstance(opacity, bool)
        or not isinstance(opacity, (int, float, np.number))
        or not 0.0 <= float(opacity) <= 1.0
    ):  # NaN fails the comparison too
        raise ValueError(f"opacity={opacity!r} is invalid: allowed a number from 0 to 1")
    return float(opacity)


def overlay(image: Image.Image, heatmap, opacity: float, box=None) -> Image.Image:
    """`image` (RGB) with the coloured heat map blended on top: opacity 0 is the picture alone,
    1 the colour map alone.

    `box` as in `heatmap_on_image`; transparency is composited onto white first.
    Raises `ValueError` naming `opacity` outside [0, 1], or a malformed `heatmap` or `box`.
    """
    opacity = check_opacity(opacity)
    picture = flatten_transparency(image).convert("RGB")
    placed = heatmap_on_image(heatmap, picture.size, box)
    colours = Image.merge("RGB", [placed.point(table) for table in _CHANNEL_TABLES])
    return Image.blend(picture, colours, opacity)


class Explanation(NamedTuple):
    """Grad-CAM of a classifier's top class for one upload, ready to be drawn at any opacity
    without computing the gradients again."""

    heat: np.ndarray  # (h, w) in [0, 1], at the feature map's own size
    upload: Image.Image  # the upload as shown: at most DISPLAY_SIDE, a small one enlarged
    box: tuple[float, ...]  # where the model input lies in `upload`
    model_input: Image.Image  # what the model saw, enlarged
    caption: str  # one line naming the class

    def overlays(self, opacity: float) -> tuple[Image.Image, Image.Image]:
        """(heat map on the upload, heat map on the model input); `ValueError` names an
        opacity outside [0, 1]."""
        return (
            overlay(self.upload, self.heat, opacity, self.box),
            overlay(self.model_input, self.heat, opacity),
        )


def _as_shown(picture: Image.Image) -> tuple[Image.Image, float]:
    """The upload as the page shows it, and by how much it was scaled: a small one enlarged by
    a whole factor (pixels kept sharp, like the model input beside it), a large one shrunk to
    DISPLAY_SIDE."""
    longest = max(picture.size)
    if longest < PREVIEW_SIDE:
        scale = PREVIEW_SIDE // longest
        return picture.resize(
            (picture.width * scale, picture.height * scale), Image.Resampling.NEAREST
        ), scale
    scale = min(1.0, DISPLAY_SIDE / longest)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return picture.resize(size, Image.Resampling.LANCZOS), scale


def explain(classifier: Classifier, image) -> Explanation:
    """Grad-CAM of `classifier`'s top class for one upload (path, bytes, PIL image, array).

    Raises `ValueError` in one sentence for an unreadable image.
    """
    picture = open_image(image)
    seen, box = classifier.model_input_and_box(picture)  # decoded once: open_image is idempotent
    probabilities = classifier.predict_batch(seen[None])[0]
    chosen = int(np.argmax(probabilities))
    heat = gradcam(classifier.model, classifier.standardise(seen[None])[0], chosen)
    shown, scale = _as_shown(picture)
    caption = (
        f"Grad-CAM for **{classifier.class_names[chosen]}** "
        f"({probabilities[chosen]:.1%}): red marks the pixels that raised this class's "
        f"score most, blue those that did not."
    )
    return Explanation(heat, shown, tuple(edge * scale for edge in box), enlarged(seen), caption)
