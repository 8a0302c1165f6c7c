"""The model card: one typed class reads and writes it, and refuses a malformed or incomplete
one in one sentence naming the field."""

import dataclasses
import json

import pytest

from densenet_demo.inference.card import (
    DomainCheck,
    MirrorAverage,
    ModelCard,
    Preprocessing,
    card_path,
)
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
            ": test_accuracy='93%' is invalid: allowed a fraction from 0 to 1.",
        ),
        (changed(test_accuracy=1.5), ": test_accuracy=1.5 is invalid: allowed a fraction"),
        (changed(epochs=-1), ": epochs=-1 is invalid: allowed an integer of at least 0."),
        (changed(params=True), ": params=True is invalid: allowed an integer of at least 0."),
        (changed(class_names="T-shirt"), ": class_names='T-shirt' is invalid: allowed a list"),
        (
            changed(config={"growth_rate": 0}),
            ": config: growth_rate=0 is invalid: allowed an integer from 1 to 256.",
        ),
        (
            changed(preprocessing=[0.5]),
            ": preprocessing=[0.5] is invalid: allowed an object with kind, input, scale, mean "
            "and std.",
        ),
        (
            changed(preprocessing={"input": "28x28", "scale": 1, "mean": 0, "std": 1}),
            ": field 'preprocessing.kind' is missing.",
        ),
        (
            changed(preprocessing={"kind": "cifar", "input": "x", "scale": 1, "mean": 0, "std": 1}),
            ": preprocessing.kind='cifar' is invalid: allowed one of 'fashion', 'imagenet'.",
        ),
        (
            changed(mirror_average={**shipped_values()["mirror_average"], "used": 1}),
            ": mirror_average.used=1 is invalid: allowed true or false.",
        ),
        (
            changed(domain_check={**shipped_values()["domain_check"], "colour": "red"}),
            ": field 'domain_check.colour' is unknown.",
        ),
        (
            changed(domain_check={**shipped_values()["domain_check"], "caught": {"noise": 2}}),
            ": domain_check.caught={'noise': 2} is invalid: allowed fractions by kind of picture.",
        ),
        (
            changed(class_names=["a", "b"]),
            "field 'class_names' has 2 names for a config with 10 classes",
        ),
        (changed(confusion_matrix=[[1, 2], [3, 4]]), "field 'confusion_matrix' must be 10 x 10"),
        (changed(mistakes_file=None), ": mistakes_file=None is invalid: allowed a file name."),
        (without("mistakes_sha256"), "fields 'mistakes_file' and 'mistakes_sha256' come together"),
        (without("litert_sha256"), "fields 'litert_file' and 'litert_sha256' come together"),
        (changed(feature_reuse=[["x"]]), ": feature_reuse=[[...]] is invalid: allowed a list of"),
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


def test_every_field_says_what_it_must_be_and_nested_records_are_described_by_their_fields():
    for record in (ModelCard, Preprocessing, MirrorAverage, DomainCheck):
        for field in dataclasses.fields(record):
            assert callable(field.metadata["read"]) and field.metadata["doc"], field.name
    [mirror] = [field for field in dataclasses.fields(ModelCard) if field.name == "mirror_average"]
    names = [field.name for field in dataclasses.fields(MirrorAverage)]
    assert mirror.metadata["doc"] == (f"an object with {', '.join(names[:-1])} and {names[-1]}")


def test_a_card_whose_fields_disagree_cannot_be_made():
    card = ModelCard.read(SHIPPED)
    with pytest.raises(ValueError, match="^field 'class_names' has 2 names for a config with 10"):
        dataclasses.replace(card, class_names=("a", "b"))


def test_the_writer_writes_only_what_a_reader_accepts(tmp_path):
    card = ModelCard.read(SHIPPED)
    path = card_path(tmp_path, card.name)
    assert path == tmp_path / "fashion.json"
    card.write(path)
    assert path.read_text() == SHIPPED.read_text()
    with pytest.raises(ValueError, match=r"fashion\.json is not a valid model card: epochs=-1"):
        dataclasses.replace(card, epochs=-1).write(path)
    assert path.read_text() == SHIPPED.read_text()  # the refused card was not written
