"""What a Train-tab job may be: the budget's checks, the server's limits, the time estimate and
the configuration a click on Train trains."""

import dataclasses

import pytest

from densenet_demo import PRESETS
from densenet_demo.architecture.summary import summarize
from densenet_demo.training.budget import (
    BUDGET_CONTROLS,
    DEFAULT_BUDGET,
    SLOW_MINUTES,
    SPACE_LIMITS,
    Budget,
    TrainingLimits,
    check_budget,
    estimate_seconds,
    fit_to_data,
    plan_training,
    small_variant,
    training_limits,
)
from densenet_demo.training.data import TRAINING_IMAGES
from densenet_demo.training.trainer import TrainSettings, saved_settings

VALUES = {control.name: control.default for control in BUDGET_CONTROLS}


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("train_images", 999, "train_images=999"),
        ("train_images", 60_000, "train_images=60000"),
        ("epochs", 0, "epochs=0"),
        ("epochs", 2.5, "epochs=2.5"),
        ("epochs", True, "epochs=True"),
        ("train_batch_size", 4, "train_batch_size=4"),
        ("learning_rate", "fast", "learning_rate='fast'"),
        ("learning_rate", float("nan"), "learning_rate=nan"),
        ("learning_rate", 5, "learning_rate=5"),
    ],
)
def test_a_bad_budget_value_is_refused_by_name(name, value, named):
    with pytest.raises(ValueError, match="invalid") as error:
        check_budget({**VALUES, name: value})
    assert str(error.value).startswith(named)


def test_a_typed_learning_rate_is_read_as_a_number():
    assert check_budget({**VALUES, "learning_rate": "0.03"}).learning_rate == 0.03


def test_the_budgets_image_count_is_the_trainers_and_all_is_the_default():
    assert Budget(5_000, 1, 128, 0.1).settings("r").train_images == 5_000
    assert Budget(TRAINING_IMAGES, 1, 128, 0.1).settings("r").train_images == 55_000
    assert TrainSettings().train_images == 55_000  # all the images not held out
    assert TrainSettings(validation_size=200).train_images == 59_800


@pytest.mark.parametrize("count", [0, 55_001, -5])
def test_the_trainer_refuses_an_image_count_it_cannot_train_on(count):
    with pytest.raises(ValueError, match=r"^train_images=.* is invalid: .* 1 to 55,000"):
        TrainSettings(train_images=count)


def test_settings_saved_before_train_images_read_as_the_count_trained_on():
    legacy = {"epochs": 3, "validation_size": 5000, "train_limit": 0}
    assert saved_settings(legacy) == {"epochs": 3, "validation_size": 5000, "train_images": 55_000}
    assert saved_settings({"validation_size": 200, "train_limit": 0})["train_images"] == 59_800
    assert saved_settings({"validation_size": 200, "train_limit": 640})["train_images"] == 640
    today = {"validation_size": 5000, "train_images": 640}
    assert saved_settings(today) == today


def test_only_a_long_schedule_gets_random_erasing():
    short, long = DEFAULT_BUDGET._replace(epochs=3), DEFAULT_BUDGET._replace(epochs=30)
    assert short.settings("r").erase_probability == 0
    assert long.settings("r").erase_probability == TrainSettings().erase_probability > 0


def test_the_estimate_grows_with_images_epochs_and_macs():
    small = summarize(fit_to_data(PRESETS["article"]))
    large = summarize(PRESETS["fashion"])
    budget = Budget(20_000, 2, 128, 0.1)
    assert estimate_seconds(small, budget) < estimate_seconds(large, budget)
    assert estimate_seconds(large, budget) < estimate_seconds(large, budget._replace(epochs=4))
    assert estimate_seconds(large, budget) < estimate_seconds(
        large, budget._replace(train_images=40_000)
    )


def test_limits_refuse_too_many_parameters_image_epochs_or_minutes():
    summary = summarize(PRESETS["fashion"])
    with pytest.raises(ValueError, match="over this server's limit of 100,000"):
        TrainingLimits(max_params=100_000).check(summary, DEFAULT_BUDGET)
    with pytest.raises(ValueError, match="image-epochs"):
        TrainingLimits(max_image_epochs=10_000).check(summary, DEFAULT_BUDGET)
    with pytest.raises(ValueError, match="min here, over this server's limit of 1 min"):
        TrainingLimits(max_minutes=1).check(summary, DEFAULT_BUDGET)
    TrainingLimits().check(summary, DEFAULT_BUDGET)  # the defaults take the shipped model's


def test_training_off_refuses_every_job():
    limits = training_limits({"DENSENET_TRAINING": "off"})
    assert not limits.enabled
    with pytest.raises(ValueError, match="turned off"):
        limits.check(summarize(PRESETS["article"]), DEFAULT_BUDGET)


def test_a_space_gets_stricter_limits_each_replaceable():
    assert training_limits({"SPACE_ID": "user/space"}) == SPACE_LIMITS
    assert SPACE_LIMITS.max_minutes < TrainingLimits().max_minutes
    limits = training_limits({"SPACE_ID": "user/space", "DENSENET_TRAIN_MAX_QUEUE": "5"})
    assert limits.max_queue == 5 and limits.max_params == SPACE_LIMITS.max_params
    with pytest.raises(ValueError, match="DENSENET_TRAIN_MAX_MINUTES='soon' is not a number"):
        training_limits({"DENSENET_TRAIN_MAX_MINUTES": "soon"})


def test_fit_to_data_gives_fashion_mnist_input_and_classes():
    fitted = fit_to_data(PRESETS["densenet-bc-100"])
    assert fitted.input_shape == (28, 28, 1) and fitted.num_classes == 10
    with pytest.raises(ValueError, match="cannot train on Fashion-MNIST: input_shape"):
        fit_to_data(PRESETS["densenet121"])  # 7x7/2 stem, max-pool and 3 transitions: < 1 px


def test_a_configuration_that_cannot_take_28_px_is_replaced_by_its_small_variant():
    plan = plan_training(PRESETS["densenet121"], DEFAULT_BUDGET)
    assert plan.variant_reason == (
        "its 'imagenet' stem and 4 dense blocks need images of at least 29×29 px, and "
        "Fashion-MNIST's are 28×28"
    )
    assert plan.config == small_variant(PRESETS["densenet121"])
    assert plan.seconds < SLOW_MINUTES * 60 and not plan.slow


def test_the_small_variant_keeps_the_layer_choices_and_cuts_the_size():
    config = dataclasses.replace(PRESETS["densenet121"], compression=0.7, dropout_rate=0.2)
    variant = small_variant(config)
    assert (variant.compression, variant.dropout_rate, variant.bottleneck) == (0.7, 0.2, True)
    assert variant.block_layers == (4, 4, 4) and variant.growth_rate == 12
    assert summarize(variant).total_params < summarize(fit_to_data(PRESETS["fashion"])).total_params


def test_a_slow_configuration_is_replaced_unless_asked_for_as_set():
    config, budget = PRESETS["densenet-bc-100"], Budget(TRAINING_IMAGES, 10, 128, 0.1)
    plan = plan_training(config, budget)
    assert plan.variant_reason.startswith("it would take about") and plan.slow
    as_set = plan_training(config, budget, as_set=True)
    assert as_set.variant_reason == "" and as_set.config == fit_to_data(config) and as_set.slow


def test_a_fitting_quick_configuration_is_trained_as_set():
    plan = plan_training(PRESETS["fashion"], DEFAULT_BUDGET)
    assert plan.variant_reason == "" and plan.config == PRESETS["fashion"]
