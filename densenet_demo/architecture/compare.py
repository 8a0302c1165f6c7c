"""Two configurations side by side: what a change did to every headline figure and field.

A is the configuration kept for reference (pinned on the page), B the one being changed; every
difference reads B − A. The figures are the headline's own rows, matched by label, so a figure
added to `report.headline` is compared without a change here.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from .config import DenseNetConfig
from .report import Figure, headline, human
from .summary import Summary
from .training_memory import DEFAULT_MEMORY_GIB, DEFAULT_OPTIMIZER

_MISSING = Figure("—", None)


class FigurePair(NamedTuple):
    """One headline figure of A and of B, with B − A and B / A (None where either is not one
    amount, or for the ratio where A's is 0)."""

    label: str
    a: Figure
    b: Figure
    difference: float | None
    ratio: float | None


def compare_figures(
    a: Summary,
    b: Summary,
    batch_size: int,
    optimizer: str = DEFAULT_OPTIMIZER,
    memory_gib: float = DEFAULT_MEMORY_GIB,
) -> list[FigurePair]:
    """The headline figures of `a` and `b` (for `batch_size` images, `optimizer` and
    `memory_gib`, as `headline` takes them), in B's order; a figure only one of them has comes
    last."""
    rows_a = dict(headline(a, batch_size, optimizer, memory_gib))
    rows_b = dict(headline(b, batch_size, optimizer, memory_gib))
    labels = list(rows_b) + [label for label in rows_a if label not in rows_b]
    pairs = []
    for label in labels:
        figure_a, figure_b = rows_a.get(label, _MISSING), rows_b.get(label, _MISSING)
        difference = ratio = None
        if figure_a.amount is not None and figure_b.amount is not None:
            difference = figure_b.amount - figure_a.amount
            ratio = figure_b.amount / figure_a.amount if figure_a.amount else None
        pairs.append(FigurePair(label, figure_a, figure_b, difference, ratio))
    return pairs


def differing_fields(a: DenseNetConfig, b: DenseNetConfig) -> list[tuple[str, str, str]]:
    """(field, A's value, B's value) for each config field that differs, in field order."""
    return [
        (field.name, repr(getattr(a, field.name)), repr(getattr(b, field.name)))
        for field in dataclasses.fields(DenseNetConfig)
        if getattr(a, field.name) != getattr(b, field.name)
    ]


def signed_difference(pair: FigurePair) -> str:
    """B − A as people read it, short (the exact figures are in A's and B's columns):
    '+48', '-4.80 M', '-12.5 MiB', '0'; '—' if none."""
    if pair.difference is None:
        return "—"
    sign = "+" if pair.difference > 0 else "-" if pair.difference < 0 else ""
    size = abs(pair.difference)
    if not size:
        return "0"
    unit = pair.b.unit or pair.a.unit
    if unit != "B" and size < 10_000:
        return f"{sign}{size:,.0f}" if float(size).is_integer() else f"{sign}{size:,.2f}"
    return f"{sign}{human(size, unit)}"


def ratio_text(pair: FigurePair) -> str:
    """B / A to three significant digits ('0.754×'); '—' if none."""
    return "—" if pair.ratio is None else f"{pair.ratio:.3g}×"


def comparison_table(pairs: list[FigurePair]) -> str:
    """The figures of A and B as a Markdown table, with B − A and B / A."""
    lines = ["| Figure | A | B | B − A | B / A |", "|---|---|---|---|---|"]
    lines += [
        f"| {p.label} | {p.a} | {p.b} | {signed_difference(p)} | {ratio_text(p)} |" for p in pairs
    ]
    return "\n".join(lines)


def fields_table(fields: list[tuple[str, str, str]]) -> str:
    """The config fields that differ as a Markdown table, or a sentence when none do."""
    if not fields:
        return "A and B have the same configuration."
    lines = ["| Field | A | B |", "|---|---|---|"]
    lines += [f"| `{name}` | `{a}` | `{b}` |" for name, a, b in fields]
    return "\n".join(lines)
