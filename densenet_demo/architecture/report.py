"""Human-readable figures of a summary, shared by the CLI and the UI so both say the same."""

from __future__ import annotations

from .presets import PRESET_INFO, PRESETS
from .summary import Summary, summarize


def human(value: float, unit: str = "") -> str:
    """1234567 -> '1.23 M', up to P (1e15); bytes with unit 'B' use binary prefixes (MiB)."""
    if unit == "B":
        for prefix in ("", "Ki", "Mi", "Gi", "Ti"):
            if abs(value) < 1024 or prefix == "Ti":
                return f"{value:,.0f} B" if not prefix else f"{value:.1f} {prefix}B"
            value /= 1024
    for prefix, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {prefix}{unit}".rstrip()
    return f"{value:,.0f} {unit}".rstrip()


def headline(summary: Summary, batch_size: int) -> list[tuple[str, str]]:
    """The headline numbers, as (label, value) pairs."""
    memory = summary.activation_memory(batch_size)
    return [
        ("Depth", f"{summary.depth} (conv + dense layers)"),
        ("Parameters", f"{summary.total_params:,} ({human(summary.total_params)})"),
        (
            "Trainable / non-trainable",
            f"{summary.trainable_params:,} / {summary.non_trainable_params:,}",
        ),
        (
            "MACs per image",
            f"{summary.macs:,} ({human(summary.macs)}; {human(summary.flops, 'FLOPs')})",
        ),
        ("Weights (float32)", human(summary.param_bytes, "B")),
        (f"Training activations, batch {batch_size}: naive", human(memory.naive_bytes, "B")),
        (
            f"Training activations, batch {batch_size}: shared-memory",
            human(memory.shared_bytes, "B"),
        ),
        ("Keras layers", f"{len(summary.layers):,}"),
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
