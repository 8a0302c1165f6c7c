"""The fused BatchNormalization trains like Keras' own: same step, same statistics, same
inference, the same weights file; and an older checkpoint resumes only on its own kernel."""

import dataclasses
import json

import numpy as np
import pytest

from densenet_demo import PRESETS
from densenet_demo.training.trainer import (
    TrainSettings,
    kernel_note,
    resume_differences,
    train,
)

pytestmark = pytest.mark.slow  # builds and trains Keras models

SMALL = dataclasses.replace(PRESETS["fashion"], block_layers=(2, 2), growth_rate=6, init_features=8)


def densenet_step(fused: bool, policy: str = "float32"):
    """A small DenseNet after one SGD step from the same start on the same batch."""
    import keras

    from densenet_demo.architecture.keras_model import build_model

    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = build_model(SMALL, fused_batch_norm=fused)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy")
    images, labels = batch()
    loss = model.train_on_batch(images, labels)
    return model, float(loss)


def batch():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(32, 28, 28, 1)).astype(np.float32)
    return images, np.eye(10, dtype=np.float32)[rng.integers(0, 10, 32)]


def statistics(model):
    return {w.path: w.numpy() for w in model.weights if "moving" in w.path}


def test_a_densenet_trains_the_same_forward_pass_and_keeps_one_weights_layout():
    keras_model, keras_loss = densenet_step(fused=False)
    fused_model, fused_loss = densenet_step(fused=True)
    assert any(type(layer).__name__ == "FusedBatchNormalization" for layer in fused_model.layers)
    assert [w.path for w in fused_model.weights] == [w.path for w in keras_model.weights]
    assert fused_loss == pytest.approx(keras_loss, rel=1e-6)
    fused_statistics = statistics(fused_model)
    for name, expected in statistics(keras_model).items():  # biased variance, as Keras keeps
        np.testing.assert_allclose(fused_statistics[name], expected, rtol=1e-5, atol=1e-7)
    images, _ = batch()
    np.testing.assert_allclose(  # inference: Keras' own path in both
        fused_model.predict(images, verbose=0),
        keras_model.predict(images, verbose=0),
        rtol=1e-4,
        atol=1e-6,
    )


def smooth_step(fused: bool):
    """Conv, batch norm, softplus, concatenation, batch norm, as in a dense layer, after one
    SGD step. Softplus, not ReLU: the two kernels' outputs differ by rounding, which flips a
    few ReLUs at exactly 0 and so moves the DenseNet's gradients by more than rounding."""
    import keras

    from densenet_demo.architecture.fused_batch_norm import FusedBatchNormalization

    norm = FusedBatchNormalization if fused else keras.layers.BatchNormalization
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    features = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    grown = keras.layers.Conv2D(4, 3, padding="same")(
        keras.layers.Activation("softplus")(norm(epsilon=1.001e-5)(features))
    )
    joined = keras.layers.Concatenate()([features, grown])
    pooled = keras.layers.GlobalAveragePooling2D()(norm(epsilon=1.001e-5)(joined))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(pooled))
    model.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy")
    model.train_on_batch(*batch())
    return model.get_weights()


def test_its_gradient_matches_keras_batch_normalization():
    for expected, got in zip(smooth_step(fused=False), smooth_step(fused=True)):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_under_mixed_bfloat16_it_computes_in_bfloat16_and_keeps_float32_statistics():
    keras_model, keras_loss = densenet_step(fused=False, policy="mixed_bfloat16")
    fused_model, fused_loss = densenet_step(fused=True, policy="mixed_bfloat16")
    assert fused_loss == pytest.approx(keras_loss, rel=1e-2)
    norm = fused_model.get_layer("conv1_bn")
    assert norm.compute_dtype == "bfloat16" and norm.moving_variance.dtype == "float32"
    fused_statistics = statistics(fused_model)
    for name, expected in statistics(keras_model).items():
        np.testing.assert_allclose(fused_statistics[name], expected, rtol=1e-2, atol=1e-3)


def test_a_checkpoint_from_before_the_option_resumes_on_the_fused_kernel_and_says_so(tmp_path):
    settings = TrainSettings(
        name="tiny",
        epochs=2,
        batch_size=64,
        train_images=640,
        validation_size=200,
        xla=True,
        fused_batch_norm=False,
    )
    config = dataclasses.replace(SMALL, block_layers=(1, 1), growth_rate=4)
    train(config, dataclasses.replace(settings, epochs=1), tmp_path, log=lambda *_: None)
    progress = tmp_path / "progress.json"
    meta = json.loads(progress.read_text())
    del meta["settings"]["fused_batch_norm"]  # as written before the option existed
    meta["settings"]["epochs"] = 2
    progress.write_text(json.dumps(meta))

    now = dataclasses.replace(settings, xla=False, fused_batch_norm=True)
    assert resume_differences(meta["settings"], now) == (
        [],
        {"xla": [True, False], "fused_batch_norm": [None, True]},
    )
    with pytest.raises(ValueError, match=r"other options: seed=0 \(asked: 1\)"):
        train(config, dataclasses.replace(now, seed=1), tmp_path, resume=True)
    lines = []
    _, resumed = train(config, now, tmp_path, resume=True, log=lines.append)
    assert "after epoch 1/2; xla True -> False; fused_batch_norm None -> True" in lines[1]
    assert [row["epoch"] for row in resumed["history"]] == [1, 2]
    assert resumed["kernel_changes"] == [
        {"after_epoch": 1, "changed": {"xla": [True, False], "fused_batch_norm": [None, True]}}
    ]
    assert json.loads(progress.read_text())["settings"]["fused_batch_norm"] is True
    assert kernel_note(resumed) == (
        "Resumed on other kernels (after epoch 1: xla True -> False, fused_batch_norm None -> "
        "True): the same training up to rounding."
    )
    assert kernel_note({"history": []}) is None
