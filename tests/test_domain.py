"""The out-of-domain check: chosen on held-out validation images, measured on pictures that are
not clothing, kept on the card, and said in one sentence beside the labels."""

import dataclasses
import shutil

import numpy as np
import pytest

from densenet_demo.inference.card import ModelCard
from densenet_demo.inference.classifier import load_classifier
from densenet_demo.inference.domain import DomainCheck
from densenet_demo.inference.service import ModelRegistry
from densenet_demo.training.calibration import NON_CLOTHING, calibrate, non_clothing
from densenet_demo.training.export import write_card
from densenet_demo.ui.classify_tab import ClassifyHandlers

from support import EXAMPLE

CHECK = DomainCheck(
    threshold=0.6,
    validation_images=5000,
    clothing_flagged=0.05,
    photos_flagged=0.2,
    caught={"noise": 0.9},
)


def test_a_top_class_below_the_threshold_is_flagged_in_one_sentence():
    assert CHECK.flags(0.41) and not CHECK.flags(0.6)
    sentence = CHECK.sentence(0.41, "try another model")
    assert sentence == (
        "This picture does not look like the clothing this model knows: its top class has 41% "
        "probability, below the 60% that 95% of real clothing images reach, so its labels are "
        "likely wrong; try another model."
    )


@pytest.mark.parametrize("kind", NON_CLOTHING)
def test_non_clothing_pictures_are_made_offline_and_the_same_each_time(kind):
    first, again = non_clothing(kind, 3), non_clothing(kind, 3)
    assert len(first) == 3 and all(picture.mode == "RGB" for picture in first)
    assert [np.asarray(p).tobytes() for p in first] == [np.asarray(p).tobytes() for p in again]
    assert len({np.asarray(p).tobytes() for p in first}) == 3  # not one picture thrice


@pytest.fixture(scope="module")
def calibrated(tiny_weights_dir, tmp_path_factory):
    """A copy of the tiny model whose card carries a check chosen on its validation images."""
    folder = tmp_path_factory.mktemp("calibrated")
    shutil.copytree(tiny_weights_dir, folder, dirs_exist_ok=True)
    classifier = load_classifier("fashion", folder)
    check = calibrate(classifier, flag_rate=0.1, count=20)
    write_card(folder / "fashion.json", dataclasses.replace(classifier.card, domain_check=check))
    return folder, check


def test_the_threshold_flags_the_chosen_share_of_held_out_clothing(calibrated):
    _, check = calibrated
    assert check.validation_images == 200  # the tiny run held out 200 training images
    assert check.clothing_flagged == pytest.approx(0.1, abs=0.01)
    assert set(check.caught) == set(NON_CLOTHING)
    assert all(0 <= share <= 1 for share in [check.photos_flagged, *check.caught.values()])


def test_the_check_travels_on_the_card(calibrated):
    folder, check = calibrated
    assert ModelCard.read(folder / "fashion.json").domain_check == check


def classified_with_threshold(calibrated, folder, threshold):
    """The Classify handler's answer for the example, its model's check set to `threshold`."""
    source, check = calibrated
    shutil.copytree(source, folder)
    card = ModelCard.read(folder / "fashion.json")
    check = dataclasses.replace(check, threshold=threshold)
    write_card(folder / "fashion.json", dataclasses.replace(card, domain_check=check))
    return ClassifyHandlers(ModelRegistry(folder)).classify(str(EXAMPLE), 3)


def test_a_flagged_upload_gets_the_sentence_beside_its_labels(calibrated, tmp_path):
    labels, _, about = classified_with_threshold(calibrated, tmp_path / "all", 1.0)
    assert len(labels) == 3  # the labels are still shown
    assert about.startswith("**This picture does not look like the clothing this model knows")
    assert "an ImageNet model (the Model menu)" in about and "Predicted in" in about
    _, _, about = classified_with_threshold(calibrated, tmp_path / "none", 0.0)
    assert about.startswith("Predicted in")
