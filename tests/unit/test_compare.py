"""Two configurations compared: every headline figure of A and B, B − A and B / A, exactly."""

import dataclasses

import pytest

from densenet_demo import PRESETS
from densenet_demo.architecture.compare import (
    FigurePair,
    compare_figures,
    comparison_table,
    differing_fields,
    fields_table,
    ratio_text,
    signed_difference,
)
from densenet_demo.architecture.report import Figure, headline
from densenet_demo.architecture.summary import summarize

A = PRESETS["densenet121"]
B = dataclasses.replace(A, growth_rate=24, block_layers=(6, 12, 24))
BATCH = 32


@pytest.fixture(scope="module")
def pairs():
    return {pair.label: pair for pair in compare_figures(summarize(A), summarize(B), BATCH)}


def test_the_figures_differ_by_exactly_the_two_summaries_difference(pairs):
    a, b = summarize(A), summarize(B)
    expected = {
        "Depth": (a.depth, b.depth),
        "Parameters": (a.total_params, b.total_params),
        "MACs per image": (a.macs, b.macs),
        "Weights (float32)": (a.param_bytes, b.param_bytes),
        "Keras layers": (len(a.layers), len(b.layers)),
    }
    for label, (amount_a, amount_b) in expected.items():
        assert pairs[label].difference == amount_b - amount_a, label
        assert pairs[label].ratio == amount_b / amount_a, label
    # Memory too, from its exact bytes, not from the rounded '2.8 GiB' on screen.
    shared_a = a.activation_memory(BATCH).shared_bytes
    shared_b = b.activation_memory(BATCH).shared_bytes
    memory = next(pair for pair in pairs.values() if pair.a.amount == shared_a)
    assert memory.b.amount == shared_b and memory.difference == shared_b - shared_a


def test_every_headline_figure_is_compared_and_shown_as_the_page_shows_it(pairs):
    assert list(pairs) == [label for label, _ in headline(summarize(B), BATCH)]
    assert {label: pair.b for label, pair in pairs.items()} == dict(headline(summarize(B), BATCH))
    assert {label: pair.a for label, pair in pairs.items()} == dict(headline(summarize(A), BATCH))


@pytest.mark.parametrize("name", PRESETS)
def test_every_headline_value_says_its_amount(name):
    """A row added to the headline without an amount would be compared without a difference:
    each value must be a Figure (its amount None only where the text is not one amount)."""
    for label, value in headline(summarize(PRESETS[name]), BATCH):
        assert isinstance(value, Figure), label
        assert value.amount is not None or label == "Trainable / non-trainable", label


def test_a_figure_that_is_not_one_amount_has_no_difference(pairs):
    pair = pairs["Trainable / non-trainable"]
    assert pair.difference is None and signed_difference(pair) == ratio_text(pair) == "—"


def test_a_configuration_compared_with_itself_changes_nothing():
    summary = summarize(A)
    for pair in compare_figures(summary, summary, BATCH):
        if pair.a.amount is not None:
            assert (pair.difference, pair.ratio) == (0, 1)
            assert (signed_difference(pair), ratio_text(pair)) == ("0", "1×")
    assert differing_fields(A, A) == []
    assert fields_table([]) == "A and B have the same configuration."


@pytest.mark.parametrize(
    "a, b, unit, difference, ratio",
    [
        (8_062_504, 3_264_056, "", "-4.80 M", "0.405×"),
        (2_834_161_664, 2_834_171_664, "", "+10.00 K", "1×"),
        (121, 169, "", "+48", "1.4×"),
        (32_250_016, 13_056_224, "B", "-18.3 MiB", "0.405×"),
        (0, 5, "", "+5", "—"),  # no ratio to nothing
    ],
)
def test_differences_read_as_signed_figures(a, b, unit, difference, ratio):
    pair = FigurePair(
        "x", Figure(str(a), a, unit), Figure(str(b), b, unit), b - a, b / a if a else None
    )
    assert (signed_difference(pair), ratio_text(pair)) == (difference, ratio)


def test_the_fields_that_differ_are_listed_in_field_order():
    assert differing_fields(A, B) == [
        ("growth_rate", "32", "24"),
        ("block_layers", "(6, 12, 24, 16)", "(6, 12, 24)"),
    ]
    assert "| `growth_rate` | `32` | `24` |" in fields_table(differing_fields(A, B))


def markdown_rows(table: str) -> list[dict]:
    """A Markdown table's rows, each by column name."""
    header, rule, *lines = table.splitlines()
    assert set(rule) <= set("|-: "), rule

    def cells(line):
        return [cell.strip() for cell in line.strip().strip("|").split("|")]

    return [dict(zip(cells(header), cells(line), strict=True)) for line in lines]


def test_the_table_has_a_row_per_figure_with_both_values(pairs):
    table = comparison_table(list(pairs.values()))
    assert table.splitlines()[0] == "| Figure | A | B | B − A | B / A |"
    rows = {row["Figure"]: row for row in markdown_rows(table)}
    assert list(rows) == list(pairs)  # one row per figure, in the headline's order
    parameters = pairs["Parameters"]
    assert rows["Parameters"] == {
        "Figure": "Parameters",
        "A": f"{summarize(A).total_params:,} ({parameters.a.split('(')[1]}",
        "B": parameters.b,
        "B − A": signed_difference(parameters),
        "B / A": ratio_text(parameters),
    }
