"""Figures as people read them: units that switch as numbers grow."""

import pytest

from densenet_demo.architecture.report import human


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
