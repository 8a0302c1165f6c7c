"""The out-of-domain check: chosen on held-out validation images, measured on pictures that are
not clothing, kept on the card, and said in one sentence beside the labels."""

import dataclasses
import shutil

import numpy as np
import pytest

from densenet_demo.inference.card import DomainCheck, ModelCard, card_path
from densenet_demo.inference.classifier import load_classifier
from densenet_demo.inference.domain import FeatureStatistics
from densenet_demo.inference.service import ModelRegistry
from densenet_demo.training.calibration import NON_CLOTHING, calibrate, non_clothing
from densenet_demo.ui.classify_tab import ClassifyHandlers

from support import EXAMPLE

CHECK = DomainCheck(
    threshold=400.0,
    validation_images=5000,
    clothing_flagged=0.05,
    photos_flagged=0.05,
    caught={"noise": 1.0},
    statistics_file="fashion.domain.npz",
    statistics_sha256="0" * 64,
)


def test_a_picture_far_from_every_class_is_flagged_in_one_sentence():
    assert CHECK.flags(400.1) and not CHECK.flags(400.0)
    assert CHECK.sentence("try another model") == (
        "This picture does not look like the clothing this model knows: what it sees in it "
        "lies farther from every kind it learned than for 95% of real clothing images, so its "
        "labels are likely wrong; try another model."
    )


def test_the_distance_is_to_the_nearest_class_in_the_shared_covariance():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 500)
    features = rng.normal(0, [1.0, 5.0], (1000, 2)) + np.where(labels[:, None] == 1, 10.0, 0.0)
    statistics = FeatureStatistics.fit(features, labels)
    # 5 along the wide axis is one deviation; 5 along the narrow one, five.
    near, far = statistics.distances(np.array([[0.0, 5.0], [5.0, 0.0]]))
    assert near == pytest.approx(1, rel=0.15) and far == pytest.approx(25, rel=0.15)
    assert statistics.distances(np.array([[10.0, 10.0]]))[0] < 0.1  # class 1's mean


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
    check = calibrate(
        classifier, folder / "fashion.domain.npz", flag_rate=0.1, count=20, fit_images=400
    )
    dataclasses.replace(classifier.card, domain_check=check).write(card_path(folder, "fashion"))
    return folder, check


def test_the_threshold_flags_the_chosen_share_of_held_out_clothing(calibrated):
    _, check = calibrated
    assert check.validation_images == 200  # the tiny run held out 200 training images
    assert check.clothing_flagged == pytest.approx(0.1, abs=0.01)
    assert set(check.caught) == set(NON_CLOTHING)
    assert all(0 <= share <= 1 for share in [check.photos_flagged, *check.caught.values()])


def test_the_check_travels_on_the_card(calibrated):
    folder, check = calibrated
    assert ModelCard.read(card_path(folder, "fashion")).domain_check == check


def test_the_classifier_loads_the_check_with_its_statistics(calibrated):
    folder, check = calibrated
    loaded = load_classifier("fashion", folder).domain
    assert loaded is not None and loaded[0] == check
    assert loaded[1].means.shape == (10, loaded[1].precision.shape[0])


def test_statistics_that_do_not_match_the_card_turn_the_check_off(calibrated, tmp_path):
    folder, _ = calibrated
    shutil.copytree(folder, tmp_path / "w")
    (tmp_path / "w" / "fashion.domain.npz").write_bytes(b"tampered")
    assert load_classifier("fashion", tmp_path / "w").domain is None


def classified_with_threshold(calibrated, folder, threshold):
    """The Classify tab's answer on the page for the example, its model's check set to
    `threshold`."""
    source, check = calibrated
    shutil.copytree(source, folder)
    card = ModelCard.read(card_path(folder, "fashion"))
    check = dataclasses.replace(check, threshold=threshold)
    dataclasses.replace(card, domain_check=check).write(card_path(folder, "fashion"))
    return ClassifyHandlers(ModelRegistry(folder)).classify_for_page(str(EXAMPLE), 3)


def test_a_flagged_upload_gets_the_sentence_beside_its_labels(calibrated, tmp_path):
    flagged = classified_with_threshold(calibrated, tmp_path / "all", -1.0)
    labels, about = flagged["top_classes"], flagged["about"]
    assert len(labels) == 3  # the labels are still shown
    assert about.startswith("**This picture does not look like the clothing this model knows")
    assert "an ImageNet model (the Model menu)" in about and "Predicted in" in about
    about = classified_with_threshold(calibrated, tmp_path / "none", 1e12)["about"]
    assert about.startswith("Predicted in")
