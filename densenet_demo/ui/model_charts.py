"""Plotly figures of a trained model (the Model tab), read from its model card and its
feature-reuse grids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..inference.card import ModelCard
from ..inference.feature_reuse import ReuseGrid


class Anchor(NamedTuple):
    """A published Fashion-MNIST test accuracy to compare against."""

    name: str  # short: it labels a bar on a phone too
    accuracy: float
    source: str
    about: str  # shown on hover
    params: int | None = None  # as published (rounded there); None where it is not a network


TRAINING_COLOUR, VALIDATION_COLOUR = "#1f77b4", "#ff7f0e"
HIGHLIGHT_COLOUR, ANCHOR_COLOUR = "#d62728", "#7f7f7f"  # this model (or the best), published
CURVE_COLOURS = {"training": TRAINING_COLOUR, "validation": VALIDATION_COLOUR}
LEGEND_BELOW = {"orientation": "h", "y": -0.25}  # a side legend would squeeze a phone's plot

_BENCHMARK = "the Fashion-MNIST benchmark table (github.com/zalandoresearch/fashion-mnist)"
ANCHORS = (
    Anchor("DenseNet-BC 768K", 0.954, _BENCHMARK, "DenseNet-BC, 768K parameters", 768_000),
    Anchor("WRN-40-4 8.9M", 0.967, _BENCHMARK, "Wide ResNet 40-4, 8.9M parameters", 8_900_000),
    Anchor("Humans", 0.835, _BENCHMARK, "Humans, crowd-sourced, no fashion expertise"),
)

FEATURE_REUSE_HOW_TO_READ = (
    "**Columns** are the layers of a dense block (the last one reads the whole block: the "
    "transition, or the classifier); **rows** are where their input channels come from: the "
    "block input or an earlier layer's k new channels.  \n"
    "**Colour** is the mean |weight| of the column's first convolution on that row's channels, "
    "scaled so each column's strongest source is 1: bright cells far above the diagonal are "
    "features made early and still used late."
)


def headline_markdown(card: ModelCard) -> str:
    """One line: test accuracy, size, how it was trained and how it predicts."""
    hours = card.train_seconds / 3600
    # The validation accuracy without the mirror is the one above (final_val_accuracy): shown
    # once, not again from the card's mirror_average.
    averaged = (
        f" Each picture's probabilities are averaged with its mirror image's, which raised "
        f"validation accuracy to {card.mirror_average.accuracy_averaged:.2%}: the app predicts "
        f"that way."
        if card.mirror_averaged
        else ""
    )
    return (
        f"**{card.test_accuracy:.2%} test accuracy** on {card.test_images:,} "
        f"Fashion-MNIST test images · {card.params:,} parameters · {card.epochs} "
        f"epochs ({hours:.1f} h of training) · validation accuracy "
        f"{card.final_val_accuracy:.2%} ({card.validation}).{averaged}"
    )


def accuracy_figure(card: ModelCard) -> go.Figure:
    """This model's test accuracy beside the published anchors."""
    names = [f"This model {card.params / 1000:.0f}K"] + [anchor.name for anchor in ANCHORS]
    values = [card.test_accuracy] + [anchor.accuracy for anchor in ANCHORS]
    details = [[f"this project's DenseNet, {card.params:,} parameters", "its model card"]]
    details += [[anchor.about, anchor.source] for anchor in ANCHORS]
    return go.Figure(
        go.Bar(
            x=values,
            y=names,
            orientation="h",
            customdata=details,
            marker_color=[HIGHLIGHT_COLOUR] + [ANCHOR_COLOUR] * len(ANCHORS),
            text=[f"{value:.1%}" for value in values],
            textposition="auto",
            hovertemplate="%{customdata[0]}: %{x:.1%}<br>from %{customdata[1]}<extra></extra>",
        ),
        layout={
            "title": {"text": "Test accuracy on Fashion-MNIST"},
            # Zoomed on 80-100% where the anchors are, unless this model falls below that.
            "xaxis": {
                "title": {"text": "accuracy"},
                "range": [min(0.8, min(values) - 0.05), 1.0],
                "tickformat": ".0%",
            },
            "yaxis": {"autorange": "reversed"},
            "height": 280,
            "margin": {"t": 50, "l": 10, "r": 10, "b": 40},
        },
    )


def per_class_figure(card: ModelCard) -> go.Figure:
    """Accuracy of each class, with the overall accuracy as a line."""
    names, values = zip(*card.per_class_accuracy.items())
    return go.Figure(
        go.Bar(
            x=names,
            y=values,
            marker_color="#1f77b4",
            hovertemplate="%{x}: %{y:.1%} correct<extra></extra>",
        ),
        layout={
            "title": {"text": "Accuracy per class (test set)"},
            "yaxis": {"range": [0, 1], "tickformat": ".0%"},
            "shapes": [
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": card.test_accuracy,
                    "y1": card.test_accuracy,
                    "line": {"dash": "dash", "color": HIGHLIGHT_COLOUR},
                }
            ],
            "annotations": [
                {
                    "xref": "paper",
                    "x": 1,
                    "y": card.test_accuracy,
                    "text": f"overall {card.test_accuracy:.1%}",
                    "showarrow": False,
                    "xanchor": "right",
                    "yanchor": "bottom",
                }
            ],
            "height": 340,
            "margin": {"t": 50, "l": 50, "r": 10, "b": 80},
        },
    )


def confusion_figure(card: ModelCard) -> go.Figure:
    """Counts per (true, predicted) class: correct ones on the diagonal in green, mistakes in
    red, so the mistakes stand out instead of being washed out by ~900 hits per class."""
    names = list(card.class_names)
    counts = np.asarray(card.confusion_matrix, dtype=float)
    share = counts / counts.sum(axis=1, keepdims=True)
    diagonal = np.eye(len(names), dtype=bool)

    def trace(cells, colours, hover):
        z = np.where(cells, counts, np.nan)
        return go.Heatmap(
            z=z.tolist(),
            x=names,
            y=names,
            customdata=share.tolist(),
            colorscale=colours,
            texttemplate="%{z:d}",
            hovertemplate=hover,
            showscale=False,  # every cell shows its count; a colour bar would squeeze a phone's
            hoverongaps=False,
            xgap=1,
            ygap=1,
        )

    correct = trace(
        diagonal,
        [[0, "#e5f5e0"], [1, "#31a354"]],
        "%{z:d} %{y} images classified correctly (%{customdata:.1%})<extra></extra>",
    )
    wrong = trace(
        ~diagonal,
        "Reds",
        "%{z:d} %{y} images classified as %{x} (%{customdata:.1%} of %{y})"
        "<br>pick true %{y}, predicted %{x} below to see them<extra></extra>",
    )
    return go.Figure(
        [correct, wrong],
        layout={
            "title": {"text": "Confusion matrix (red: mistakes)"},
            "xaxis": {"title": {"text": "predicted class"}, "tickangle": -35},
            "yaxis": {"title": {"text": "true class"}, "autorange": "reversed"},
            "height": 560,
            "margin": {"t": 50, "l": 100, "r": 10, "b": 100},
        },
    )


class Curve(NamedTuple):
    """One series of the curves figure, drawn in both plots: its loss and its accuracy."""

    name: str  # in the legend and the hover text
    kind: str  # "training" or "validation": its colour
    x: Sequence[float]  # epochs (fractional between two epochs' ends)
    loss: Sequence[float | None]
    accuracy: Sequence[float | None]
    mode: str = "lines+markers"
    dash: str = "solid"


def epoch_curves(history: Sequence[dict], prefix: str = "") -> list[Curve]:
    """A run's training and validation curves from its per-epoch rows (the trainer's);
    `prefix` names them ("A " for "A training")."""
    epochs = [row["epoch"] for row in history]
    return [
        Curve(
            prefix + kind,
            kind,
            epochs,
            [row.get(key + "loss") for row in history],
            [row.get(key + "accuracy") for row in history],
        )
        for kind, key in (("training", ""), ("validation", "val_"))
    ]


def curves_figure(curves: Sequence[Curve], title: str, height: int = 340) -> go.Figure:
    """Loss and accuracy side by side against the epoch: each curve in both plots, coloured by
    its kind, in the legend once. Training figures are measured on augmented images (and the
    loss uses label smoothing), so they can sit below the validation ones."""
    # The gap between the plots holds the accuracy ticks ('100%'): the default one is too
    # narrow for them on a phone.
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.16
    )
    for column, metric in ((1, "loss"), (2, "accuracy")):
        for curve in curves:
            figure.add_trace(
                go.Scatter(
                    x=list(curve.x),
                    y=list(getattr(curve, metric)),
                    mode=curve.mode,
                    name=curve.name,
                    legendgroup=curve.name,
                    showlegend=column == 1,
                    line={"color": CURVE_COLOURS[curve.kind], "dash": curve.dash},
                    cliponaxis=False,  # a marker on the axis' end is not halved
                    hovertemplate=f"epoch %{{x:.2~f}}: {curve.name} {metric} "
                    "%{y:.4f}<extra></extra>",
                ),
                row=1,
                col=column,
            )
    figure.update_xaxes(title_text="epoch")
    figure.update_yaxes(tickformat=".0%", row=1, col=2)
    figure.update_layout(
        title={"text": title},
        height=height,
        margin={"t": 70, "l": 50, "r": 10, "b": 40},
        legend=LEGEND_BELOW,
    )
    return figure


def training_curves_figure(card: ModelCard) -> go.Figure:
    """Loss and accuracy per epoch, on the training images and the held-out validation ones."""
    figure = curves_figure(epoch_curves(card.history), "Training curves")
    figure.update_xaxes(nticks=6)  # a few ticks: readable on a phone
    figure.update_layout(hovermode="x unified")
    return figure


def feature_reuse_figure(grids: list[ReuseGrid]) -> go.Figure:
    """One heat map per dense block, as in Figure 5 of the paper (blank: not connected)."""
    figure = make_subplots(
        rows=1,
        cols=len(grids),
        horizontal_spacing=0.06,
        subplot_titles=[f"Block {grid.block}" for grid in grids],
    )
    for column, grid in enumerate(grids, start=1):
        normalised = grid.normalised
        figure.add_trace(
            go.Heatmap(
                z=_with_gaps(normalised),
                x=list(grid.readers),
                y=list(grid.sources),
                customdata=_with_gaps(grid.mean_abs),
                coloraxis="coloraxis",
                hoverongaps=False,
                hovertemplate="%{x} reads %{y}: %{z:.2f} of its strongest source "
                "(mean |w| %{customdata:.4f})<extra></extra>",
            ),
            row=1,
            col=column,
        )
        figure.update_yaxes(autorange="reversed", row=1, col=column, showticklabels=column == 1)
    figure.update_xaxes(tickangle=-45)
    figure.update_layout(
        title={"text": "Feature reuse per dense block"},
        coloraxis={
            "colorscale": "Viridis",
            "cmin": 0,
            "cmax": 1,
            "colorbar": {"title": {"text": "relative<br>weight"}},
        },
        height=420,
        margin={"t": 70, "l": 90, "r": 10, "b": 90},
    )
    return figure


def _with_gaps(values: np.ndarray) -> list[list[float | None]]:
    """NaN -> None, so the JSON holds nulls that Plotly draws as gaps."""
    return [[None if np.isnan(value) else float(value) for value in row] for row in values]
