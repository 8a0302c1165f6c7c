"""Keras' ImageNet DenseNet-121 in our own model: its legacy weights file, its classes, its input,
and one plain sentence when the weights cannot be had."""

import socket
import tempfile
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from densenet_demo.inference import imagenet
from densenet_demo.inference.classifier import load_classifier
from densenet_demo.inference.imagenet import CLASS_NAMES, WEIGHT_FILES
from densenet_demo.inference.model_inputs import imagenet_input_and_box

pytestmark = pytest.mark.slow  # Keras models

PUBLISHED_NAME = WEIGHT_FILES["densenet121"].file_name


@pytest.fixture(scope="module")
def keras_densenet121(tmp_path_factory):
    """keras.applications.DenseNet121 with distinct random weights everywhere (BN statistics
    included, so a layer loaded into the wrong place shows), saved in the legacy HDF5 layout of
    Keras' published file, under its published name."""
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(0)
    reference = keras.applications.DenseNet121(weights=None)
    rng = np.random.default_rng(0)
    for layer in reference.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = (weight.shape for weight in layer.get_weights())
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma).astype(np.float32),
                    rng.normal(0, 0.1, beta).astype(np.float32),
                    rng.normal(0, 0.1, mean).astype(np.float32),
                    rng.uniform(0.5, 1.5, variance).astype(np.float32),
                ]
            )
    # A wider classifier with a bias: confident, distinct predictions, as trained weights make.
    kernel, bias = reference.get_layer("predictions").get_weights()
    reference.get_layer("predictions").set_weights(
        [kernel * 50, rng.normal(0, 1, bias.shape).astype(np.float32)]
    )
    folder = tmp_path_factory.mktemp("imagenet-weights")
    with h5py.File(folder / PUBLISHED_NAME, "w") as file, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Keras' own, once per weight
        legacy_h5_format.save_weights_to_hdf5_group(file, reference)
    return reference, folder


@pytest.fixture(scope="module")
def classifier(keras_densenet121):
    return load_classifier("densenet121", keras_densenet121[1])


@pytest.fixture(scope="module")
def pictures():
    """Four 224x224 RGB pictures: smooth colour gradients with noise, not flat noise alone."""
    rng = np.random.default_rng(1)
    ramp = np.linspace(0, 1, 224)
    images = []
    for index in range(4):
        base = np.stack(
            [
                np.add.outer(ramp * (index + 1), ramp[::-1]) * 100 + 40 * channel
                for channel in range(3)
            ],
            axis=-1,
        )
        images.append(np.clip(base + rng.normal(0, 25, base.shape), 0, 255))
    return np.stack(images).round().astype(np.uint8)


def test_class_names_are_1000_unique_in_the_canonical_order():
    assert len(CLASS_NAMES) == 1000 and len(set(CLASS_NAMES)) == 1000
    assert CLASS_NAMES[0] == "tench" and CLASS_NAMES[1] == "goldfish"
    assert CLASS_NAMES[207] == "Golden Retriever" and CLASS_NAMES[281] == "tabby cat"
    assert CLASS_NAMES[409] == "analog clock" and CLASS_NAMES[999] == "toilet paper"


def test_the_fixture_file_has_the_published_legacy_layout(keras_densenet121):
    with h5py.File(keras_densenet121[1] / PUBLISHED_NAME, "r") as file:
        assert "layer_names" in file.attrs and "model_weights" not in file
        assert file["conv1_conv"].attrs["weight_names"].size == 1


def test_published_weights_load_into_our_model_and_match_keras(
    classifier, keras_densenet121, pictures
):
    from keras.applications.densenet import preprocess_input

    reference = keras_densenet121[0]
    expected = reference(preprocess_input(pictures.astype(np.float32)), training=False).numpy()
    # The weights make confident predictions that differ between pictures: matching them
    # means something.
    assert expected.max() > 0.05 and np.abs(expected - expected[0]).max() > 0.01
    inputs = preprocess_input(pictures.astype(np.float32))
    ours = classifier.model(inputs, training=False).numpy()
    assert np.abs(ours - expected).max() <= 1e-5
    # The app's path: our preprocessing of uint8 pictures, then the LiteRT forward pass,
    # whose XNNPACK kernels sum in another order (1.5e-5 seen on these confident outputs).
    assert np.abs(classifier.predict_batch(pictures) - expected).max() <= 1e-4


def test_predict_names_imagenet_classes_most_probable_first(classifier, pictures):
    result = classifier.predict(Image.fromarray(pictures[0]), top_k=5)
    assert len(result) == 5 and all(label in CLASS_NAMES for label, _ in result)
    assert [p for _, p in result] == sorted((p for _, p in result), reverse=True)
    top_index = classifier.predict_batch(pictures[:1])[0].argmax()
    assert result[0][0] == CLASS_NAMES[top_index]


def test_the_input_is_the_centre_of_the_picture_with_its_shorter_side_at_256():
    # 400x300: shorter side to 256 makes it 341x256, whose centre 224x224 spans x 68..331
    # and y 19..281 of the original. Red there, blue outside.
    pixels = np.zeros((300, 400, 3), np.uint8)
    pixels[..., 2] = 255
    pixels[10:290, 60:340] = (255, 0, 0)
    seen = imagenet_input_and_box(Image.fromarray(pixels))[0]
    assert seen.shape == (224, 224, 3) and seen.dtype == np.uint8
    assert (seen[2:-2, 2:-2, 0] == 255).all() and (seen[2:-2, 2:-2, 2] == 0).all()


def test_grayscale_and_transparent_pictures_become_rgb_on_white():
    gray = imagenet_input_and_box(Image.new("L", (224, 224), 90))[0]
    assert (gray == 90).all()
    transparent = imagenet_input_and_box(Image.new("RGBA", (300, 300), (0, 0, 0, 0)))[0]
    assert (transparent == 255).all()


def test_missing_weights_with_downloads_off_is_one_plain_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv(imagenet.OFFLINE_VARIABLE, "1")
    with pytest.raises(ValueError) as raised:
        load_classifier("densenet121", tmp_path)
    assert str(raised.value) == (
        f"DenseNet-121 (ImageNet) is unavailable: its weights file is not in {tmp_path} and "
        f"downloads are off (DENSENET_OFFLINE=1): put {PUBLISHED_NAME} in the weights folder "
        "(DENSENET_WEIGHTS_DIR, or --weights-dir on the command line)."
    )


def test_a_failed_download_is_one_plain_sentence_and_the_reason_is_logged(
    tmp_path, monkeypatch, caplog
):
    from keras.src.backend.config import keras_home

    file_name = WEIGHT_FILES["densenet169"].file_name
    caches = (Path(keras_home()), Path(tempfile.gettempdir()) / ".keras")  # as get_file picks
    if any((cache / "models" / file_name).exists() for cache in caches):
        pytest.skip("Keras' cache already holds the file: nothing would be downloaded")
    with socket.socket() as closed:  # bound, never listening: a connection is refused at once
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
        monkeypatch.delenv(imagenet.OFFLINE_VARIABLE, raising=False)
        monkeypatch.setattr(imagenet, "BASE_URL", url)  # a real download attempt, refused
        with pytest.raises(ValueError) as raised:
            imagenet.weights_path("densenet169", tmp_path)
    assert str(raised.value) == (
        f"DenseNet-169 (ImageNet) is unavailable: its weights file is not in {tmp_path} and "
        f"could not be downloaded (no network?): put {file_name} in the weights folder "
        "(DENSENET_WEIGHTS_DIR, or --weights-dir on the command line), or connect this "
        "machine to the internet once."
    )
    assert f"downloading {file_name} failed: " in caplog.text and url in caplog.text


def test_a_file_that_does_not_fit_is_refused_in_one_sentence(tmp_path):
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(tmp_path / PUBLISHED_NAME, "w") as file:
        small = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        legacy_h5_format.save_weights_to_hdf5_group(file, small)
    with pytest.raises(
        ValueError,
        match=r"is not a weights file for densenet121 \(Layer count "
        r"mismatch.*\)\.$",
    ):
        load_classifier("densenet121", tmp_path)
