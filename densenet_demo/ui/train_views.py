"""What the Train tab shows, as pure functions of a job's state and the saved runs: the live
curves, the progress line, the runs table, accuracy against cost with its Pareto front, and
two runs compared. No Gradio here: the tab wires these to its components."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from ..architecture.compare import differing_fields, fields_table
from ..architecture.config import DenseNetConfig
from ..architecture.report import human
from ..inference.card import ModelCard
from ..inference.runs import Run
from ..training.budget import Budget
from ..training.jobs import JobState
from ..training.run_record import RunRecord, macs_of
from ..training.trainer import saved_settings
from .model_charts import (
    ANCHOR_COLOUR,
    ANCHORS,
    HIGHLIGHT_COLOUR,
    LEGEND_BELOW,
    TRAINING_COLOUR,
    Curve,
    curves_figure,
    epoch_curves,
)

FRONT_COLOUR, SHIPPED_COLOUR = HIGHLIGHT_COLOUR, "#2ca02c"


# --- words and numbers -------------------------------------------------------------------


def short_config(config: DenseNetConfig) -> str:
    """A configuration in a few words for a table cell: 'BC k=12 4-4-4 article stem'
    (B: bottleneck, C: compression θ < 1; the style only when it is not the paper's)."""
    flags = ("B" if config.bottleneck else "") + ("C" if config.compression < 1 else "")
    words = [flags] if flags else []
    words += [f"k={config.growth_rate}", "-".join(map(str, config.block_layers))]
    words.append(f"{config.stem} stem")
    if config.style != "paper":
        words.append(f"{config.style} style")
    return " ".join(words)


def duration_text(seconds: float) -> str:
    """'4:05' (m:ss) under an hour, '3:30 h' (h:mm) from an hour on."""
    seconds = round(seconds)
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d} h"


def duration_words(seconds: float) -> str:
    """'40 s', '1 min 20 s', '2 h 05 min': a duration in a sentence, read at a glance (tables
    use `duration_text`)."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _number(value: float | None, form: str = ",") -> str:
    return "—" if value is None else format(value, form)


def _epochs_text(record: RunRecord) -> str:
    given = record.epochs if record.epochs is not None else record.epochs_done
    return f"{record.epochs_done}/{given}" + (" cancelled" if record.cancelled else "")


# The runs table: (header, the record's field it shows, how).
RUNS_TABLE_COLUMNS = (
    ("Run", "run_id", lambda record: record.run_id),
    ("Configuration", "config", lambda record: short_config(record.config)),
    ("Parameters", "params", lambda record: f"{record.params:,}"),
    ("MACs", "macs", lambda record: str(human(record.macs))),
    ("Epochs", "epochs", _epochs_text),
    ("Training images", "train_images", lambda record: _number(record.train_images)),
    ("Batch size", "batch_size", lambda record: _number(record.batch_size)),
    ("Learning rate", "learning_rate", lambda record: _number(record.learning_rate, "g")),
    ("Val accuracy", "val_accuracy", lambda record: _percent(record.val_accuracy)),
    ("Test accuracy", "test_accuracy", lambda record: _percent(record.test_accuracy)),
    (
        "Training time",
        "train_seconds",
        lambda record: "—" if record.train_seconds is None else duration_text(record.train_seconds),
    ),
    ("Images/s", "images_per_second", lambda record: _number(record.images_per_second, ",.0f")),
)
RUNS_TABLE_HEADERS = [header for header, _, _ in RUNS_TABLE_COLUMNS]
# The budget's settings besides epochs, named as the table names them.
_SETTING_LABELS = {
    field: header
    for name in Budget._fields
    for header, field, _ in RUNS_TABLE_COLUMNS
    if field == name != "epochs"
}


# --- the live view of a job --------------------------------------------------------------


def live_curves_figure(state: JobState) -> go.Figure:
    """Loss and accuracy while a job trains, on an x axis fixed from 0 to the budget's epochs
    so that the curves grow across it: the running training figures of each reported step as
    lines, each finished epoch's validation figures as markers. Both curves are there from
    the start, empty (so the axes and legend are drawn before the first step)."""
    steps = state.steps_seen
    running = Curve(
        "training (running)",
        "training",
        [step[0] for step in steps],
        [step[1] for step in steps],
        [step[2] for step in steps],
        mode="lines",
    )
    validation = epoch_curves(state.history)[1]
    figure = curves_figure([running, validation], "Learning, live", height=320)
    figure.update_xaxes(range=[0, state.budget.epochs], nticks=5)
    figure.update_yaxes(rangemode="tozero", row=1, col=1)
    figure.update_yaxes(range=[0, 1], row=1, col=2)
    if not steps and not state.history:
        figure.add_annotation(  # where the legend comes: over the plots it hid a phone's ticks
            text="waiting for the first steps…",
            xref="paper",
            yref="paper",
            x=0.5,
            y=LEGEND_BELOW["y"],
            yanchor="top",
            showarrow=False,
        )
    figure.update_layout(
        # Room below for the legend, or the note in its place: the plots do not jump when
        # the first step comes.
        margin={"b": 75},
        uirevision=state.run_id,  # a person's zoom survives the updates of the same job
    )
    return figure


def progress_fraction(state: JobState) -> float:
    """How much of the job's epochs is done, 0 to 1; 1 once it has finished (whatever the
    outcome: the bar stops there)."""
    if state.finished:
        return 1.0
    if state.epoch < 1 or not state.steps:
        return 0.0
    done = state.epoch - 1 + min(state.step, state.steps) / state.steps
    return min(1.0, max(0.0, done / state.budget.epochs))


def progress_markdown(state: JobState) -> str:
    """One or two lines on where the job is: its place in the queue, the worker starting, or
    epoch, step, speed and time left; then the job's own sentence when it has one."""
    head = ""
    if state.state == "queued":
        ahead = state.queue_position
        head = f"Waiting: {ahead} job{'s' if ahead != 1 else ''} ahead of yours"
        head += f" · yours will take about {duration_words(state.estimate_seconds)}"
    elif state.state == "starting":
        head = "Starting the worker…"
    elif state.state in ("training", "stopping") and state.epoch:
        parts = [
            f"Epoch {state.epoch}/{state.budget.epochs}",
            f"step {state.step}/{state.steps}",
        ]
        if state.images_per_second:
            parts.append(f"{state.images_per_second:,.0f} images/s")
        if state.seconds_left is not None and state.state == "training":
            parts.append(f"about {duration_words(state.seconds_left)} left")
        head = " · ".join(parts)
    lines = [line for line in (head, state.message) if line]
    return "  \n".join(lines) or state.state.capitalize()


# --- the saved runs ----------------------------------------------------------------------


def runs_table(records: Sequence[RunRecord]) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of the runs table, a row per saved run in the order given."""
    rows = [[show(record) for _, _, show in RUNS_TABLE_COLUMNS] for record in records]
    return list(RUNS_TABLE_HEADERS), rows


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the (cost, value) points no other point dominates (another with cost ≤ and
    value ≥, better in one), cost ascending; identical points are all kept."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1], i))
    front: list[int] = []
    for index in order:
        cost, value = points[index]
        if not front:
            front.append(index)
            continue
        best_cost, best_value = points[front[-1]]
        if value > best_value or (value == best_value and cost == best_cost):
            front.append(index)
    return front


def runs_scatter_figures(
    records: Sequence[RunRecord], shipped: ModelCard | None
) -> tuple[go.Figure, go.Figure]:
    """Validation accuracy against parameters and against MACs (log x): each run a point, the
    runs no other beats on both cost and accuracy joined as the Pareto front, the shipped model
    starred, and the published Fashion-MNIST results (test accuracies) as reference lines."""
    scored = [record for record in records if record.val_accuracy is not None]
    shipped_cost = (None, None) if shipped is None else (shipped.params, macs_of(shipped.config))
    by_params = _accuracy_figure(
        "parameters", [record.params for record in scored], scored, shipped, shipped_cost[0]
    )
    by_macs = _accuracy_figure(
        "MACs", [record.macs for record in scored], scored, shipped, shipped_cost[1]
    )
    return by_params, by_macs


def _accuracy_figure(
    cost_name: str,
    costs: list[int],
    records: list[RunRecord],
    shipped: ModelCard | None,
    shipped_cost: int | None,
) -> go.Figure:
    figure = go.Figure()
    accuracies = [record.val_accuracy for record in records]
    front = pareto_front(list(zip(costs, accuracies)))
    on_front = set(front)
    figure.add_trace(
        go.Scatter(
            x=[costs[i] for i in front],
            y=[accuracies[i] for i in front],
            mode="lines",
            line={"shape": "hv", "color": FRONT_COLOUR, "width": 2},
            name="Pareto front",
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=costs,
            y=accuracies,
            mode="markers",
            name="runs",
            marker={
                "size": [13 if i in on_front else 8 for i in range(len(records))],
                "color": [
                    FRONT_COLOUR if i in on_front else TRAINING_COLOUR for i in range(len(records))
                ],
                "line": {"width": 1, "color": "white"},
            },
            customdata=[_run_hover(record) for record in records],
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    # The published models as points where their cost is known: parameters, not MACs.
    known = cost_name == "parameters"
    names_side = "left"
    anchors = [anchor for anchor in ANCHORS if known and anchor.params is not None]
    if anchors:
        figure.add_trace(
            go.Scatter(
                x=[anchor.params for anchor in anchors],
                y=[anchor.accuracy for anchor in anchors],
                mode="markers",
                name="published (test)",
                marker={"symbol": "diamond", "size": 10, "color": ANCHOR_COLOUR},
                customdata=[f"{anchor.name} (test)<br>{anchor.about}" for anchor in anchors],
                hovertemplate="%{customdata}: %{y:.1%} test accuracy<br>from the "
                "Fashion-MNIST benchmark table<extra></extra>",
            )
        )
    if shipped is not None and shipped.final_val_accuracy is not None:
        cost = shipped_cost
        # Its label runs towards the middle of the plot, so that no edge cuts it off.
        extent = [math.log(x) for x in [*costs, cost, *(anchor.params for anchor in anchors)]]
        right_half = math.log(cost) >= (min(extent) + max(extent)) / 2
        names_side = "left" if right_half else "right"  # the anchors' names keep off the star
        figure.add_trace(
            go.Scatter(
                x=[cost],
                y=[shipped.final_val_accuracy],
                mode="markers+text",
                name="shipped model",
                text=["shipped model"],
                textposition="bottom left" if right_half else "bottom right",
                marker={"symbol": "star", "size": 16, "color": SHIPPED_COLOUR},
                hovertemplate=f"shipped model ({short_config(shipped.config)})<br>"
                f"val {_percent(shipped.final_val_accuracy)}, test "
                f"{_percent(shipped.test_accuracy)}<br>{cost:,} {cost_name}<extra></extra>",
            )
        )
    # Anchors a point apart (95.4%, 96.7%): the highest is named above its line, in the
    # middle (clear of the published points at the ends), each other below its own, so that
    # no name sits between two lines with one drawn through it.
    highest = max(anchor.accuracy for anchor in ANCHORS)
    for anchor in ANCHORS:
        figure.add_hline(
            y=anchor.accuracy,
            line={"dash": "dot", "color": ANCHOR_COLOUR, "width": 1},
            annotation_text=f"{anchor.name} (test)",
            annotation_position="top" if anchor.accuracy == highest else f"bottom {names_side}",
            annotation_font={"size": 10, "color": ANCHOR_COLOUR},
        )
    if not records:
        figure.add_annotation(
            text="no saved runs yet", xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False
        )
    figure.update_layout(
        title={"text": f"Accuracy vs {cost_name}"},
        # Log ticks at 1, 2 and 5 of each decade only: all nine crowd a phone.
        xaxis={"type": "log", "title": {"text": f"{cost_name} (log)"}, "dtick": "D2"},
        yaxis={"title": {"text": "val accuracy"}, "tickformat": ".0%"},
        height=380,
        hovermode="closest",
        margin={"t": 50, "l": 50, "r": 10, "b": 40},
        legend=LEGEND_BELOW,
    )
    return figure


def _run_hover(record: RunRecord) -> str:
    return (
        f"{record.run_id}<br>{short_config(record.config)}<br>val "
        f"{_percent(record.val_accuracy)}, test {_percent(record.test_accuracy)}<br>"
        f"{_epochs_text(record)} epochs, {_number(record.train_images)} images"
    )


# --- two runs compared -------------------------------------------------------------------


def compare_runs(a: Run, b: Run) -> tuple[go.Figure, str]:
    """A's and B's training curves overlaid (A solid, B dashed) and, in Markdown, their
    headline figures side by side, the budget settings and configuration fields that differ."""
    curves = [
        curve._replace(dash=dash)
        for label, run, dash in (("A", a, "solid"), ("B", b, "dash"))
        for curve in epoch_curves(run.card.history or (), f"{label} ")
    ]
    figure = curves_figure(curves, "A solid, B dashed")
    epochs = max(len(a.card.history or ()), len(b.card.history or ()), 1)
    figure.update_xaxes(tick0=1, dtick=math.ceil(epochs / 6))  # whole epochs
    return figure, _comparison_markdown(a, b)


def _comparison_markdown(a: Run, b: Run) -> str:
    record_a, record_b = RunRecord.of(a), RunRecord.of(b)
    lines = [
        f"**A** {a.run_id}: {short_config(record_a.config)}  \n"
        f"**B** {b.run_id}: {short_config(record_b.config)}",
        "",
        "| Figure | A | B | B − A |",
        "|---|---|---|---|",
    ]
    for label, value_a, value_b, text, difference in (
        (
            "Val accuracy",
            record_a.val_accuracy,
            record_b.val_accuracy,
            _percent,
            lambda d: f"{d * 100:+.2f} pp",
        ),
        (
            "Test accuracy",
            record_a.test_accuracy,
            record_b.test_accuracy,
            _percent,
            lambda d: f"{d * 100:+.2f} pp",
        ),
        ("Parameters", record_a.params, record_b.params, lambda v: f"{v:,}", lambda d: f"{d:+,}"),
        (
            "Training time",
            record_a.train_seconds,
            record_b.train_seconds,
            lambda v: "—" if v is None else duration_text(v),
            lambda d: ("-" if d < 0 else "+") + duration_text(abs(d)),
        ),
    ):
        change = "—" if value_a is None or value_b is None else difference(value_b - value_a)
        lines.append(f"| {label} | {text(value_a)} | {text(value_b)} | {change} |")
    settings = _differing_settings(a, b)
    lines += ["", "**Training settings that differ**", ""]
    if settings:
        lines += ["| Setting | A | B |", "|---|---|---|"]
        lines += [f"| {name} | {value_a} | {value_b} |" for name, value_a, value_b in settings]
    else:
        lines.append("A and B were trained with the same settings.")
    lines += ["", "**Configuration fields that differ**", ""]
    lines.append(fields_table(differing_fields(record_a.config, record_b.config)))
    return "\n".join(lines)


def _differing_settings(a: Run, b: Run) -> list[tuple[str, str, str]]:
    """(setting, A's, B's) for each training setting that differs: the budget's first, by the
    table's names, then any other setting of the trainer's by its own."""
    settings_a, settings_b = (saved_settings(run.card.settings or {}) for run in (a, b))
    for settings in (settings_a, settings_b):
        settings.pop("name", None)  # the run id: always differs, shown above
    rows = []
    epochs_a, epochs_b = (_epochs_text(RunRecord.of(run)) for run in (a, b))
    if epochs_a != epochs_b:
        rows.append(("Epochs", epochs_a, epochs_b))
    others = sorted((set(settings_a) | set(settings_b)) - {"epochs", *_SETTING_LABELS})
    for key in [*_SETTING_LABELS, *others]:
        value_a, value_b = settings_a.get(key), settings_b.get(key)
        if value_a != value_b:
            label = _SETTING_LABELS.get(key, f"`{key}`")
            rows.append((label, _setting(value_a), _setting(value_b)))
    return rows


def _setting(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:g}" if isinstance(value, float) else str(value)
