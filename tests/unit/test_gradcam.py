"""Grad-CAM finds the evidence where models built with a known answer keep it, and its overlay
lines up with the upload the model's input was cut from."""

import numpy as np
import pytest
from PIL import Image

from densenet_demo.architecture.config import DenseNetConfig
from densenet_demo.architecture.keras_model import build_model
from densenet_demo.inference.gradcam import (
    HEATMAP_COLORS,
    default_layer_name,
    gradcam,
    heatmap_on_image,
    overlay,
)
from densenet_demo.inference.model_inputs import fashion_input_and_box

from support import SAMPLE

pytestmark = pytest.mark.slow  # Keras models and gradients
# Keras is imported where it is used: at the top, collecting this module (as the fast loop does,
# to deselect it) would load TensorFlow.


@pytest.fixture(scope="module")
def quadrant_model():
    """Class 0 reads only the top-left quadrant of the input, class 1 only the bottom-right,
    with weights so large that a single patch saturates the softmax."""
    import keras

    masks = np.zeros((1, 8, 8, 2), np.float32)
    masks[0, :4, :4, 0] = masks[0, 4:, 4:, 1] = 1.0
    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Lambda(lambda x: x * masks, name="features")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="avg_pool")(features)
    outputs = keras.layers.Dense(2, activation="softmax", name="predictions")(pooled)
    model = keras.Model(inputs, outputs)
    model.get_layer("predictions").set_weights(
        [np.eye(2, dtype=np.float32) * 1000, np.zeros(2, np.float32)]
    )
    return model


def patches(*corners, size=8, side=2):
    """A black (size, size, 1) image with bright side x side squares at the (row, col) corners."""
    image = np.zeros((size, size, 1), np.float32)
    for row, col in corners:
        image[row : row + side, col : col + side] = 1.0
    return image


def peak(heat):
    return np.unravel_index(np.argmax(heat), heat.shape)


def test_each_class_lights_up_only_the_quadrant_it_reads(quadrant_model):
    image = patches((1, 1), (5, 5))  # equally bright patches in both quadrants
    assert np.array_equal(gradcam(quadrant_model, image, 0), patches((1, 1))[..., 0])
    assert np.array_equal(gradcam(quadrant_model, image, 1), patches((5, 5))[..., 0])


def test_saturated_softmax_still_gives_a_heat_map(quadrant_model):
    image = patches((2, 1))
    assert float(quadrant_model(image[None])[0, 0]) == 1.0  # the probability's gradient is 0
    assert np.array_equal(gradcam(quadrant_model, image, 0), image[..., 0])


def test_a_class_nothing_supports_gives_an_all_zero_map(quadrant_model):
    heat = gradcam(quadrant_model, patches((0, 0)), 1)
    assert heat.shape == (8, 8) and heat.dtype == np.float32 and not heat.any()


def test_batch_gives_one_map_per_image_and_class(quadrant_model):
    images = np.stack([patches((1, 1), (5, 5))] * 2)
    heat = gradcam(quadrant_model, images, [0, 1])
    assert heat.shape == (2, 8, 8)
    assert np.array_equal(heat[0], gradcam(quadrant_model, images[0], 0))
    assert np.array_equal(heat[1], gradcam(quadrant_model, images[1], 1))


def blur_densenet(style):
    """A real two-layer DenseNet whose class-1 logit is the mean of a 3x3 blur of the image:
    the stem's first filter sums a neighbourhood, and only that channel feeds class 1."""
    import keras

    config = DenseNetConfig(
        input_shape=(16, 16, 1),
        num_classes=2,
        growth_rate=4,
        block_layers=(2,),
        init_features=4,
        stem="cifar",
        style=style,
    )
    keras.utils.set_random_seed(0)
    model = build_model(config)
    stem = model.get_layer("conv1_conv")
    kernel = np.zeros(stem.kernel.shape, np.float32)
    kernel[:, :, 0, 0] = 1.0
    stem.set_weights([kernel, *stem.get_weights()[1:]])  # the article's conv bias stays 0
    head = model.get_layer("predictions")
    weights = np.zeros(head.kernel.shape, np.float32)
    weights[0, 1] = 1.0
    head.set_weights([weights, np.zeros(2, np.float32)])
    return model


@pytest.mark.parametrize("style, layer", [("paper", "relu"), ("article", "conv2_block2_concat")])
def test_densenet_map_peaks_on_the_patch_that_drives_the_class(style, layer):
    model = blur_densenet(style)
    assert default_layer_name(model) == layer  # the map before global average pooling
    images = np.stack([patches((2, 10), size=16, side=3), patches((11, 3), size=16, side=3)])
    heat = gradcam(model, images, 1)
    assert heat.shape == (2, 16, 16)
    assert peak(heat[0]) == (3, 11) and peak(heat[1]) == (12, 4)  # the 3x3 patches' centres


def test_malformed_requests_are_refused_naming_the_argument(quadrant_model):
    image = patches((1, 1))
    with pytest.raises(ValueError, match="class_index=2 is invalid"):
        gradcam(quadrant_model, image, 2)
    with pytest.raises(ValueError, match="class_index=True is invalid"):
        gradcam(quadrant_model, image, True)
    with pytest.raises(ValueError, match=r"class_index=\[0, 1, 0\] is invalid"):
        gradcam(quadrant_model, np.stack([image, image]), [0, 1, 0])
    with pytest.raises(ValueError, match=r"inputs of shape \(8, 8\) are invalid"):
        gradcam(quadrant_model, image[..., 0], 0)
    with pytest.raises(ValueError, match=r"inputs of shape \(8, 8, 1\) are invalid"):
        gradcam(quadrant_model, np.full((8, 8, 1), np.nan), 0)
    with pytest.raises(ValueError, match="layer_name='nope' is invalid"):
        gradcam(quadrant_model, image, 0, layer_name="nope")
    with pytest.raises(ValueError, match="layer_name='avg_pool' is invalid"):
        gradcam(quadrant_model, image, 0, layer_name="avg_pool")


def test_model_without_global_pooling_needs_a_layer_name():
    import keras

    inputs = keras.Input((4, 4, 1))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="give layer_name"):
        default_layer_name(model)


@pytest.fixture
def photo():
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))


def test_opacity_zero_is_the_picture_and_one_the_colour_map(photo):
    heat = np.random.default_rng(1).random((5, 5))
    assert np.array_equal(np.asarray(overlay(photo, heat, 0.0)), np.asarray(photo))
    other = Image.new("RGB", photo.size, (255, 0, 255))
    assert np.array_equal(np.asarray(overlay(photo, heat, 1)), np.asarray(overlay(other, heat, 1)))
    hot = np.asarray(overlay(photo, np.ones((3, 3)), 1.0))
    assert np.array_equal(hot, np.broadcast_to(HEATMAP_COLORS[-1].astype(np.uint8), hot.shape))


def test_half_opacity_is_the_average_of_picture_and_colour(photo):
    cold = np.asarray(overlay(photo, np.zeros((3, 3)), 0.5), float)
    expected = (np.asarray(photo, float) + HEATMAP_COLORS[0]) / 2
    assert np.abs(cold - expected).max() <= 0.5


@pytest.mark.parametrize("opacity", [-0.1, 1.5, float("nan"), True, "0.5", None])
def test_opacity_outside_zero_to_one_is_refused(photo, opacity):
    with pytest.raises(ValueError, match=r"opacity=.* is invalid: allowed a number from 0 to 1"):
        overlay(photo, np.ones((3, 3)), opacity)


@pytest.mark.parametrize(
    "box, rows, cols",
    [
        ((10, 5, 30, 25), slice(5, 25), slice(10, 30)),
        ((-10, -20, 20, 10), slice(0, 10), slice(0, 20)),
    ],
)
def test_heat_lands_only_inside_the_box(box, rows, cols):
    placed = np.asarray(heatmap_on_image(np.ones((3, 3)), (50, 40), box=box))
    inside = np.zeros((40, 50), bool)
    inside[rows, cols] = True
    assert np.all(placed[inside] == 255) and not placed[~inside].any()


@pytest.mark.parametrize(
    "heatmap",
    [
        np.ones(3),
        np.full((2, 2), 1.5),
        np.full((2, 2), -0.1),
        np.full((2, 2), np.nan),
        np.ones((0, 3)),
    ],
)
def test_heatmap_that_is_not_a_map_of_zero_to_one_is_refused(heatmap):
    with pytest.raises(ValueError, match=r"heatmap of shape .* is invalid"):
        heatmap_on_image(heatmap, (50, 40))


@pytest.mark.parametrize("box", [(10, 5, 10, 25), (0, 0, 5), "box", (0, float("inf"), 5, 5)])
def test_malformed_box_is_refused(box):
    with pytest.raises(ValueError, match="box=.* is invalid"):
        heatmap_on_image(np.ones((3, 3)), (50, 40), box=box)


def test_transparent_and_grey_pictures_give_an_rgb_overlay():
    for picture in (Image.new("RGBA", (12, 9), (0, 0, 0, 0)), Image.new("L", (12, 9), 7)):
        result = overlay(picture, np.ones((2, 2)), 0.0)
        assert result.mode == "RGB" and result.size == (12, 9)
    assert (
        np.asarray(overlay(Image.new("RGBA", (4, 4), (0, 0, 0, 0)), np.ones((2, 2)), 0)).min()
        == 255
    )  # transparency shows as white, as preprocessing composites it


@pytest.mark.parametrize("canvas, corner", [((700, 500), (390, 60)), ((1500, 1100), (200, 900))])
def test_fashion_box_maps_the_model_input_back_onto_the_item(canvas, corner):
    """The 28x28 input itself, used as a heat map, lands on the item in an off-centre upload
    (the larger upload is first shrunk, so the box is scaled back)."""
    item = np.load(SAMPLE)["images"][0]
    big = Image.fromarray(255 - item).resize((28 * 9, 28 * 9), Image.Resampling.BICUBIC)
    upload = Image.new("L", canvas, 255)
    upload.paste(big, corner)
    seen, box = fashion_input_and_box(upload)
    assert abs((box[2] - box[0]) - (box[3] - box[1])) < 1  # a square, to a pixel
    placed = np.asarray(heatmap_on_image(seen / 255.0, upload.size, box)) > 127
    item_pixels = np.asarray(upload) < 128
    overlap = (placed & item_pixels).sum() / (placed | item_pixels).sum()
    assert overlap > 0.85
