"""The model card: one typed class reads and writes it, and refuses a malformed or incomplete
one in one sentence naming the field."""

import json

import pytest

from densenet_demo.inference.card import ModelCard
from densenet_demo.inference.classifier import WEIGHTS_DIR, load_classifier
from densenet_demo.inference.imagenet import imagenet_card

SHIPPED = WEIGHTS_DIR / "fashion.json"


def shipped_values() -> dict:
    return json.loads(SHIPPED.read_text())


def test_the_shipped_card_reads_and_writes_back_byte_for_byte():
    card = ModelCard.read(SHIPPED)
    assert card.to_json() == SHIPPED.read_text()
    assert card.config.num_classes == len(card.class_names) == 10
    assert card.preprocessing.kind == "fashion" and card.test_images == 10_000


def test_a_published_models_card_has_no_training_fields():
    card = imagenet_card("densenet121")
    assert card.preprocessing.kind == "imagenet" and len(card.class_names) == 1000
    assert card.test_accuracy is None and "test_accuracy" not in card.to_dict()
    assert card.preprocessing.mean == (0.485, 0.456, 0.406)


def refusal(values) -> str:
    text = values if isinstance(values, str) else json.dumps(values)
    with pytest.raises(ValueError) as error:
        ModelCard.from_json(text, "fashion.json")
    message = str(error.value)
    assert message.startswith("fashion.json is not a valid model card: ")
    assert message.endswith(".") and "\n" not in message
    return message


def without(field):
    values = shipped_values()
    del values[field]
    return values


def changed(**fields):
    return {**shipped_values(), **fields}


@pytest.mark.parametrize(
    "values, names",
    [
        (without("weights_sha256"), "field 'weights_sha256' is missing"),
        (without("preprocessing"), "field 'preprocessing' is missing"),
        (
            changed(test_accuracy="93%"),
            "field 'test_accuracy' must be a fraction from 0 to 1, not '93%'",
        ),
        (changed(test_accuracy=1.5), "field 'test_accuracy' must be a fraction"),
        (changed(epochs=-1), "field 'epochs' must be a count"),
        (changed(params=True), "field 'params' must be a count"),
        (changed(class_names="T-shirt"), "field 'class_names' must be a list of class names"),
        (
            changed(config={"growth_rate": 0}),
            "field 'config' must be a DenseNetConfig as a JSON "
            "object, not {'growth_rate': 0} (growth_rate=0 is "
            "invalid",
        ),
        (
            changed(preprocessing={"input": "28x28", "scale": 1, "mean": 0, "std": 1}),
            "field 'preprocessing' must be an object with kind, input, scale, mean and std, not "
            "{'input': '28x28', 'mean': 0, 'scale': 1, 'std': 1} ('kind' is missing)",
        ),
        (
            changed(preprocessing={"kind": "cifar", "input": "x", "scale": 1, "mean": 0, "std": 1}),
            "kind must be one of 'fashion', 'imagenet'",
        ),
        (
            changed(class_names=["a", "b"]),
            "field 'class_names' has 2 names for a config with 10 classes",
        ),
        (changed(confusion_matrix=[[1, 2], [3, 4]]), "field 'confusion_matrix' must be 10 x 10"),
        (changed(mistakes_file=None), "field 'mistakes_file' must be a file name"),
        (without("mistakes_sha256"), "fields 'mistakes_file' and 'mistakes_sha256' come together"),
        (without("litert_sha256"), "fields 'litert_file' and 'litert_sha256' come together"),
        (changed(feature_reuse=[["x"]]), "field 'feature_reuse' must be a list of matrices"),
        (
            changed(feature_reuse=[[[0.5]]]),
            "field 'feature_reuse' does not fit the config: the feature-reuse grids are "
            "[(1, 1)], but the config plans [(9, 9), (9, 9), (9, 9)]",
        ),
        (changed(depth=121), "field 'depth' is unknown"),
        ("[1, 2]", "it is not a JSON object"),
        ("{not json", "it is not JSON"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_a_malformed_card_is_refused_naming_the_field(values, names):
    assert names in refusal(values)


def test_loading_a_model_with_a_malformed_card_says_which_file_and_field(tmp_path):
    (tmp_path / "fashion.json").write_text(json.dumps(without("class_names")))
    with pytest.raises(
        ValueError,
        match=r"^.*fashion\.json is not a valid model card: field "
        r"'class_names' is missing\.$",
    ):
        load_classifier("fashion", tmp_path)
