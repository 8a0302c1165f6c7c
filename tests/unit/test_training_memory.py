"""Training memory: weights + gradients + optimizer state + activations, the largest batch that
fits, and the refusals of bad optimizers and memory sizes."""

import dataclasses
import math

import pytest

from densenet_demo import PRESETS, DenseNetConfig, summarize
from densenet_demo.architecture.report import headline
from densenet_demo.architecture.training_memory import (
    ACTIVATION_COUNTS,
    GIB,
    OPTIMIZERS,
    check_memory_gib,
    check_optimizer,
    largest_batch,
    training_memory,
)

# One dense layer without bottleneck, counted by hand below.
TINY = DenseNetConfig(
    input_shape=(8, 8, 1),
    num_classes=2,
    growth_rate=2,
    block_layers=(1,),
    bottleneck=False,
    init_features=2,
    stem="cifar",
)


def test_the_parts_match_a_hand_count_of_a_tiny_network_and_add_up():
    # Parameters: stem conv 3·3·1·2 = 18; BN 4·2 (2·2 trainable); 3×3 conv 3·3·2·2 = 36;
    # head BN 4·4 (2·4 trainable); classifier 4·2 + 2 = 10.
    total, trainable = 18 + 8 + 36 + 16 + 10, 18 + 4 + 36 + 8 + 10
    # Elements per image the backward pass reads: the input (8·8·1, the stem conv's), the stem
    # conv's output (8·8·2, the BN's input), the ReLU's output (8·8·2), the concatenation
    # (8·8·4, the head BN's input), the head ReLU's output (8·8·4), the pooled features (4)
    # and the probabilities (2). Not the BNs' outputs, nor the 3×3 conv's (only concatenated).
    # Plus two gradients in flight the size of the largest activation (8·8·4).
    saved = 64 + 128 + 128 + 256 + 256 + 4 + 2 + 2 * 256
    step = training_memory(summarize(TINY), 3, "adam")
    assert step.weights_bytes == 4 * total
    assert step.gradient_bytes == 4 * trainable
    assert step.optimizer_bytes == 2 * 4 * trainable  # Adam: two moments per weight
    assert step.activation_bytes() == 3 * 4 * saved
    assert step.total_bytes() == 4 * (total + trainable + 2 * trainable + 3 * saved)
    sgd = training_memory(summarize(TINY), 3, "sgd-momentum")
    assert sgd.optimizer_bytes == 4 * trainable
    for count in ACTIVATION_COUNTS:
        assert step.total_bytes(count) == step.fixed_bytes + step.activation_bytes(count)


@pytest.mark.parametrize("name", PRESETS)
def test_keras_keeps_fewer_activations_than_the_naive_count(name):
    memory = summarize(PRESETS[name]).activation_memory(1)
    assert memory.saved_bytes < memory.naive_bytes


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize(
    "name, gib", [("densenet121", 16), ("densenet-bc-100", 0.5), ("fashion", 80)]
)
def test_the_largest_batch_is_the_largest_whose_total_fits(name, gib, optimizer):
    summary = summarize(PRESETS[name])
    for count in ACTIVATION_COUNTS:
        batch = largest_batch(summary, optimizer, gib * GIB, count)
        assert batch >= 1
        assert training_memory(summary, batch, optimizer).total_bytes(count) <= gib * GIB
        assert training_memory(summary, batch + 1, optimizer).total_bytes(count) > gib * GIB


def test_the_headline_gives_the_total_and_the_largest_batch():
    summary = summarize(PRESETS["densenet121"])
    rows = dict(headline(summary, 32, "adam", 24))
    total = rows["Training memory, batch 32, Adam"]
    assert total.amount == training_memory(summary, 32, "adam").total_bytes()
    assert "weights 30.8 MiB" in total and "Adam's moments" in total
    largest = rows["Largest batch in 24 GiB (Adam)"]
    assert largest.amount == largest_batch(summary, "adam", 24 * GIB) > 0
    assert f"naive {largest_batch(summary, 'adam', 24 * GIB, 'naive'):,}" in largest


def test_a_model_whose_weights_alone_do_not_fit_says_so():
    huge = dataclasses.replace(PRESETS["densenet264"], growth_rate=256)  # 1.9 G parameters
    summary = summarize(huge)
    assert training_memory(summary, 1, "adam").fixed_bytes > GIB
    assert largest_batch(summary, "adam", GIB) == 0
    largest = dict(headline(summary, 1, "adam", 1))["Largest batch in 1 GiB (Adam)"]
    assert largest.startswith("none: weights, gradients and Adam's moments alone take")


def test_a_batch_of_one_that_does_not_fit_beside_the_weights_says_so():
    summary = summarize(PRESETS["densenet264"])
    assert training_memory(summary, 1, "adam").fixed_bytes < 0.5 * GIB
    largest = dict(headline(summary, 1, "adam", 0.5))["Largest batch in 0.5 GiB (Adam)"]
    assert largest.amount == 0 and largest.startswith("none: one image's activations")


def test_memory_sizes_are_numbers_or_their_text_within_bounds():
    assert check_memory_gib(16) == 16.0 and check_memory_gib("12.5") == 12.5
    for bad in (0, 0.25, 2000, math.nan, math.inf, "x", "1e400", True, None, [16], 10**400):
        with pytest.raises(ValueError, match=r"^memory_gib=.* is invalid: allowed a number"):
            check_memory_gib(bad)


def test_unknown_optimizers_are_refused_naming_the_field():
    assert check_optimizer("adam") == "adam"
    for bad in ("rmsprop", "", None, 2, ["adam"]):
        with pytest.raises(ValueError, match=r"^optimizer=.* is invalid: allowed one of"):
            training_memory(summarize(TINY), 1, bad)
