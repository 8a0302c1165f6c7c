"""Human-readable figures of a summary, shared by the CLI and the UI so both say the same."""

from __future__ import annotations

import csv
import io

from .presets import PRESET_INFO, PRESETS
from .summary import Summary, summarize
from .training_memory import (
    ACTIVATION_COUNTS,
    DEFAULT_MEMORY_GIB,
    DEFAULT_OPTIMIZER,
    GIB,
    OPTIMIZER_NAMES,
    OPTIMIZER_STATE_NAMES,
    largest_batch,
    training_memory,
)


class Figure(str):
    """A figure as people read it ('30.8 MiB'), carrying the exact amount it shows and the unit
    `human` writes it in: two configurations' figures are then compared exactly, never read
    back from rounded text. `amount` is None where the text is not one amount."""

    amount: float | None
    unit: str

    def __new__(cls, text: str, amount: float | None, unit: str = "") -> Figure:
        figure = super().__new__(cls, text)
        figure.amount = amount
        figure.unit = unit
        return figure


def _human_text(value: float, unit: str) -> str:
    if unit == "B":
        for prefix in ("", "Ki", "Mi", "Gi", "Ti"):
            if abs(value) < 1024 or prefix == "Ti":
                return f"{value:,.0f} B" if not prefix else f"{value:.1f} {prefix}B"
            value /= 1024
    for prefix, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {prefix}{unit}".rstrip()
    return f"{value:,.0f} {unit}".rstrip()


def human(value: float, unit: str = "") -> Figure:
    """1234567 -> '1.23 M', up to P (1e15); bytes with unit 'B' use binary prefixes (MiB)."""
    return Figure(_human_text(value, unit), value, unit)


def count(number: int, noun: str) -> str:
    """3, 'epoch' -> '3 epochs'; 1, 'epoch' -> '1 epoch'."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def headline(
    summary: Summary,
    batch_size: int,
    optimizer: str = DEFAULT_OPTIMIZER,
    memory_gib: float = DEFAULT_MEMORY_GIB,
) -> list[tuple[str, Figure]]:
    """The headline numbers, as (label, value) pairs; each value a `Figure` (compare.py
    subtracts their amounts, so a row added here is compared too). The training memory is for
    `batch_size` images and `optimizer`; the largest batch, for `memory_gib` GiB."""
    memory = summary.activation_memory(batch_size)
    return [
        ("Depth", Figure(f"{summary.depth} (conv + dense layers)", summary.depth)),
        (
            "Parameters",
            Figure(
                f"{summary.total_params:,} ({human(summary.total_params)})", summary.total_params
            ),
        ),
        (
            "Trainable / non-trainable",
            Figure(f"{summary.trainable_params:,} / {summary.non_trainable_params:,}", None),
        ),
        (
            "MACs per image",
            Figure(
                f"{summary.macs:,} ({human(summary.macs)}; {human(summary.flops, 'FLOPs')})",
                summary.macs,
            ),
        ),
        ("Weights (float32)", human(summary.param_bytes, "B")),
        *_training_rows(summary, batch_size, optimizer, memory_gib),
        (f"Training activations, batch {batch_size}: naive", human(memory.naive_bytes, "B")),
        (
            f"Training activations, batch {batch_size}: shared-memory",
            human(memory.shared_bytes, "B"),
        ),
        ("Keras layers", Figure(f"{len(summary.layers):,}", len(summary.layers))),
    ]


def _training_rows(
    summary: Summary, batch_size: int, optimizer: str, memory_gib: float
) -> list[tuple[str, Figure]]:
    """Training memory in parts, Keras' activations, and the largest batch that fits."""
    step = training_memory(summary, batch_size, optimizer)
    name = OPTIMIZER_NAMES[optimizer]
    parts = (
        f"weights {human(step.weights_bytes, 'B')} + gradients {human(step.gradient_bytes, 'B')}"
        f" + {OPTIMIZER_STATE_NAMES[optimizer]} {human(step.optimizer_bytes, 'B')} + activations "
        f"{human(step.activation_bytes(), 'B')}"
    )
    fits = {
        count: largest_batch(summary, optimizer, memory_gib * GIB, count)
        for count in ACTIVATION_COUNTS
    }
    if step.fixed_bytes > memory_gib * GIB:
        largest = Figure(
            f"none: weights, gradients and {OPTIMIZER_STATE_NAMES[optimizer]} alone take "
            f"{human(step.fixed_bytes, 'B')}",
            0,
        )
    elif not fits["saved"]:
        largest = Figure(
            f"none: one image's activations ({human(step.activation_bytes() / batch_size, 'B')})"
            " do not fit beside the weights, gradients and optimizer state",
            0,
        )
    else:
        largest = Figure(
            f"{fits['saved']:,} (naive {fits['naive']:,}; shared-memory {fits['shared']:,})",
            fits["saved"],
        )
    return [
        (
            f"Training memory, batch {batch_size}, {name}",
            Figure(f"{human(step.total_bytes(), 'B')} = {parts}", step.total_bytes(), "B"),
        ),
        (
            f"Training activations, batch {batch_size}: as Keras keeps them",
            human(step.activation_bytes(), "B"),
        ),
        (f"Largest batch in {memory_gib:g} GiB ({name})", largest),
    ]


def layer_table(summary: Summary) -> tuple[list[str], list[list]]:
    """(column names, rows) of the per-layer table."""
    columns = [
        "#",
        "layer",
        "kind",
        "stage",
        "output shape",
        "params",
        "MACs",
        "activations",
        "concatenates",
    ]
    rows = [
        [
            index,
            row.name,
            row.kind,
            row.stage,
            "×".join(map(str, row.output_shape)),
            row.params,
            row.macs,
            row.activations,
            " + ".join(row.concatenates),
        ]
        for index, row in enumerate(summary.layers)
    ]
    return columns, rows


def layer_table_csv(summary: Summary) -> str:
    """The layer table as CSV text (a header line, then one line per Keras layer)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    columns, rows = layer_table(summary)
    writer.writerow(columns)
    writer.writerows(rows)
    return text.getvalue()


def stage_table(summary: Summary) -> tuple[list[str], list[list]]:
    columns = ["stage", "params", "MACs", "output channels"]
    return columns, [[s.stage, s.params, s.macs, s.out_channels] for s in summary.stages]


def preset_table() -> str:
    """Markdown: every preset's depth, parameters, MACs and input, like the paper's tables."""
    lines = [
        "| preset | what it is | depth | parameters | MACs | input |",
        "|---|---|---|---|---|---|",
    ]
    for name, config in PRESETS.items():
        summary = summarize(config)
        lines.append(
            f"| `{name}` | {PRESET_INFO[name].title} | {summary.depth} | "
            f"{human(summary.total_params)} | {human(summary.macs)} | "
            f"{'×'.join(map(str, config.input_shape))} |"
        )
    return "\n".join(lines)


def text_table(columns: list[str], rows: list[list]) -> str:
    """A plain fixed-width table; numbers right-aligned with thousands separators."""
    cells = [[f"{v:,}" if isinstance(v, int) else str(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [all(isinstance(row[i], int) for row in rows) for i in range(len(columns))]

    def line(values):
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)
        ).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells])


def summary_record(
    summary: Summary,
    batch_size: int,
    optimizer: str = DEFAULT_OPTIMIZER,
    memory_gib: float = DEFAULT_MEMORY_GIB,
) -> dict:
    """The summary as plain JSON values, for programs (the CLI's --json, `/summary`, the
    agents' tool): the exact counts, the memory estimate in parts, every headline figure as
    text and amount, and the cost per stage. Memory as `headline` takes it."""
    step = training_memory(summary, batch_size, optimizer)
    return {
        "config": summary.config.to_dict(),
        "depth": summary.depth,
        "total_params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "non_trainable_params": summary.non_trainable_params,
        "macs": summary.macs,
        "flops": summary.flops,
        "memory": summary.activation_memory(batch_size)._asdict(),
        "training_memory": {
            "optimizer": optimizer,
            "weights_bytes": step.weights_bytes,
            "gradient_bytes": step.gradient_bytes,
            "optimizer_bytes": step.optimizer_bytes,
            "total_bytes": {count: step.total_bytes(count) for count in ACTIVATION_COUNTS},
            "memory_gib": memory_gib,
            "largest_batch": {
                count: largest_batch(summary, optimizer, memory_gib * GIB, count)
                for count in ACTIVATION_COUNTS
            },
        },
        "figures": [
            {"label": label, "text": str(figure), "amount": figure.amount, "unit": figure.unit}
            for label, figure in headline(summary, batch_size, optimizer, memory_gib)
        ],
        "stages": [stage._asdict() for stage in summary.stages],
        "keras_build_refusal": summary.build_refusal(),
    }
