"""Figures as people read them: units that switch as numbers grow; the layer table as CSV."""

import csv
import io

import pytest

from densenet_demo import PRESETS
from densenet_demo.architecture.report import count, human, layer_table, layer_table_csv
from densenet_demo.architecture.summary import summarize


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (950, "", "950"),
        (8_062_504, "", "8.06 M"),
        (2_834_161_664, "", "2.83 G"),
        (221_679_440_000_000, "", "221.68 T"),  # was "221679.44 G"
        (3.2e18, "FLOPs", "3200.00 PFLOPs"),
        (32_250_000, "B", "30.8 MiB"),
    ],
)
def test_large_figures_switch_unit(value, unit, text):
    assert human(value, unit) == text


@pytest.mark.parametrize("name", ["article", "densenet121"])
def test_the_csv_export_holds_the_layer_table_row_for_row(name):
    summary = summarize(PRESETS[name])
    columns, rows = layer_table(summary)
    read = list(csv.reader(io.StringIO(layer_table_csv(summary))))
    assert read[0] == columns
    assert read[1:] == [[str(value) for value in row] for row in rows]
    assert len(read) == 1 + len(summary.layers)


def test_a_count_takes_its_noun_in_the_plural_but_for_one():
    assert [count(n, "epoch") for n in (0, 1, 2, 55_000)] == [
        "0 epochs",
        "1 epoch",
        "2 epochs",
        "55,000 epochs",
    ]


def test_a_figure_reads_as_its_text_and_carries_its_amount():
    figure = human(32_250_000, "B")
    assert figure == "30.8 MiB" and f"{figure}" == "30.8 MiB"
    assert (figure.amount, figure.unit) == (32_250_000, "B")
