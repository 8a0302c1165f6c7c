"""Plotly figures of a summary: channel growth along the network, cost per stage, and where it
lands among the published DenseNets."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from ..architecture.published import (
    PublishedModel,
    families,
    nearest_family,
    published_models,
)
from ..architecture.summary import Summary

_BLOCK_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def channel_growth_figure(summary: Summary, pinned: Summary | None = None) -> go.Figure:
    """Channels of the main feature map after each unit (x = the layer table's # column).

    Each dense layer adds k channels (a straight ramp per block); each transition cuts the
    width to θ·m and halves the resolution (a drop, shaded). With `pinned` (A), A's ramps are
    drawn first as one dashed line under the current configuration's (B's) blocks.
    """
    points, shapes, annotations = _block_ramps(summary)
    traces = []
    if pinned is not None:
        ramps = list(_block_ramps(pinned)[0].values())
        # One trace, its blocks apart: None breaks the line where a transition drops.
        joined = [point for ramp in ramps for point in [*ramp, None]][:-1]
        traces.append(
            go.Scatter(
                x=[point[0] if point else None for point in joined],
                y=[point[1].output_shape[-1] if point else None for point in joined],
                mode="lines",
                name="A (pinned)",
                line={"color": "#444", "dash": "dash", "width": 2},
                customdata=[[point[1].name] if point else [""] for point in joined],
                hovertemplate="A: %{customdata[0]}<br>%{y} channels<extra></extra>",
            )
        )
    for number, (stage, stage_points) in enumerate(points.items()):
        traces.append(
            go.Scatter(
                x=[i for i, _ in stage_points],
                y=[row.output_shape[-1] for _, row in stage_points],
                mode="lines+markers",
                name=stage if pinned is None else f"B {stage}",
                line={"color": _BLOCK_COLOURS[number]},
                customdata=[
                    [row.name, "×".join(map(str, row.output_shape))] for _, row in stage_points
                ],
                hovertemplate="%{customdata[0]}<br>%{y} channels, %{customdata[1]}<extra></extra>",
            )
        )
    return go.Figure(
        data=traces,
        layout={
            "title": {"text": "Channels per layer" + ("" if pinned is None else ": A dashed")},
            "xaxis": {"title": {"text": "layer # (layer table); shaded T: transitions"}},
            "yaxis": {"title": {"text": "channels"}},
            "shapes": shapes,
            "annotations": annotations,
            "hovermode": "closest",
            "margin": {"t": 50, "l": 50, "r": 10, "b": 40},
            "legend": {"orientation": "h", "y": -0.2},
            "height": 380,
        },
    )


def _block_ramps(summary: Summary) -> tuple[dict[str, list], list[dict], list[dict]]:
    """Each dense block's (layer #, layer) points from its input on, and the shaded
    transitions with their labels."""
    points: dict[str, list] = {}
    shapes, annotations = [], []
    previous = None  # the last trunk point: each block's ramp starts at its input width
    stage_start: dict[str, int] = {}
    for index, row in enumerate(summary.layers):
        stage_start.setdefault(row.stage, index)
        if not row.trunk:
            continue
        if row.stage.startswith("block"):
            points.setdefault(row.stage, [previous] if previous else []).append((index, row))
        elif row.stage.startswith("transition"):
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": stage_start[row.stage] - 0.5,
                    "x1": index + 0.5,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": "grey",
                    "opacity": 0.2,
                    "line": {"width": 0},
                }
            )
            annotations.append(
                {
                    "x": stage_start[row.stage] - 0.5,
                    "y": 1,
                    "xref": "x",
                    "yref": "paper",
                    # "T1", "T2", ...: full names overlap on a phone; the legend says what T is.
                    "text": "T" + row.stage.split()[-1],
                    "hovertext": row.stage,
                    "showarrow": False,
                    "xanchor": "left",
                    "yanchor": "top",
                    "font": {"size": 10},
                }
            )
        previous = (index, row)
    return points, shapes, annotations


def stage_cost_figure(summary: Summary, pinned: Summary | None = None) -> go.Figure:
    """Parameters and MACs per stage, side by side; with `pinned` (A), A's bars (hatched)
    beside the current configuration's (B's), stage by stage."""
    shown = (
        [(summary, "B (current)", "")]
        if pinned is None
        else [
            (pinned, "A (pinned)", "/"),
            (summary, "B (current)", ""),
        ]
    )
    # The deeper network's stages include the other's: its order is the axis' order.
    order = [s.stage for s in max((pinned or summary).stages, summary.stages, key=len)]
    bars = []
    for figure_summary, name, pattern in shown:
        stages = figure_summary.stages
        for metric, colour, axis in (("params", "#1f77b4", ""), ("macs", "#ff7f0e", "2")):
            label = "parameters" if metric == "params" else "MACs"
            bars.append(
                go.Bar(
                    x=[s.stage for s in stages],
                    y=[getattr(s, metric) for s in stages],
                    name=name if pinned is not None else label,
                    legendgroup=name,
                    showlegend=pinned is not None and metric == "params",
                    marker={"color": colour, "pattern": {"shape": pattern}},
                    xaxis="x" + axis,
                    yaxis="y" + axis,
                    hovertemplate=f"{name[0] + ': ' if pinned else ''}%{{x}}: %{{y:,}} "
                    f"{label}<extra></extra>",
                )
            )
    titles = [
        {
            "text": text,
            "x": x,
            "y": 1.0,
            "xref": "paper",
            "yref": "paper",
            "showarrow": False,
            "xanchor": "center",
            "yanchor": "bottom",
        }
        for text, x in (("Parameters", 0.225), ("MACs per image", 0.775))
    ]
    return go.Figure(
        data=bars,
        layout={
            "title": {"text": "Cost per stage" + ("" if pinned is None else ": A hatched")},
            "showlegend": pinned is not None,
            "legend": {"orientation": "h", "y": -0.25},
            "barmode": "group",
            "xaxis": {"domain": [0, 0.45], "categoryorder": "array", "categoryarray": order},
            "xaxis2": {
                "domain": [0.55, 1],
                "anchor": "y2",
                "categoryorder": "array",
                "categoryarray": order,
            },
            "yaxis": {"anchor": "x"},
            "yaxis2": {"anchor": "x2"},
            "annotations": titles,
            "margin": {"t": 70, "l": 50, "r": 10, "b": 40},
            "height": 340,
        },
    )


# The map's series. Keras and torchvision publish the same architectures, so their points
# coincide: Keras' are open rings, their labels above and below. The paper's DenseNets and
# DenseNet-BCs lie close in pairs: their labels go below and above.
_SERIES_STYLE = {
    "Keras": {"symbol": "circle-open", "color": "#d62728", "size": 14, "position": "top center"},
    "torchvision": {"symbol": "square", "color": "#ff7f0e", "size": 7, "position": "bottom center"},
    "paper: DenseNet": {
        "symbol": "diamond",
        "color": "#1f77b4",
        "size": 9,
        "position": "bottom center",
    },
    "paper: DenseNet-BC": {
        "symbol": "triangle-up",
        "color": "#9467bd",
        "size": 10,
        "position": "top center",
    },
}
# Decades around the points on the log axes: room for their labels, beside and above.
_MAP_PADDING = {"x": 0.3, "y": 0.25}


def _series(model: PublishedModel) -> str:
    if model.source != "paper":
        return model.source
    return "paper: DenseNet-BC" if model.config.bottleneck else "paper: DenseNet"


def _log_range(values: list[float], padding: float) -> list[float]:
    return [math.log10(min(values)) - padding, math.log10(max(values)) + padding]


def published_map_figure(summary: Summary) -> go.Figure:
    """The published DenseNets on parameters against MACs, each labelled with its accuracy,
    one panel per input size (ImageNet's above, CIFAR's below), with the current
    configuration as a star in the panel nearest its input size: MACs grow with the input, so
    only models of about its input size compare."""
    panels = families()
    here = nearest_family(summary.config)
    traces, annotations, layout, in_legend = [], [], {}, set()
    for number, family in enumerate(panels):
        axis = "" if number == 0 else str(number + 1)
        top = 1 - number / len(panels)
        models = [model for model in published_models() if model.family == family.key]
        xs, ys = [model.params for model in models], [model.macs for model in models]
        if family == here:
            xs, ys = [*xs, summary.trainable_params], [*ys, summary.macs]
        layout[f"xaxis{axis}"] = {
            "type": "log",
            "anchor": f"y{axis}",
            "range": _log_range(xs, _MAP_PADDING["x"]),
            "exponentformat": "SI",
            "title": {"text": "trainable parameters" if number == len(panels) - 1 else ""},
        }
        layout[f"yaxis{axis}"] = {
            "type": "log",
            "anchor": f"x{axis}",
            "domain": [top - 1 / len(panels) + 0.1, top - 0.08],
            "range": _log_range(ys, _MAP_PADDING["y"]),
            "exponentformat": "SI",
            "title": {"text": "MACs per image"},
        }
        annotations.append(
            {
                "text": f"{family.title}: {family.metric}",
                "x": 0,
                "y": top - 0.07,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
                "font": {"size": 12},
            }
        )
        if family == here:  # first: the published labels stay readable over it
            height, width, _ = summary.config.input_shape
            traces.append(
                go.Scatter(
                    x=[summary.trainable_params],
                    y=[summary.macs],
                    mode="markers",
                    marker={
                        "symbol": "star",
                        "color": "#2ca02c",
                        "size": 16,
                        "line": {"color": "black", "width": 1},
                    },
                    name=f"this configuration ({height}×{width})",
                    legendrank=1001,  # after the published series
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                    hovertemplate="this configuration<br>%{x:,} parameters, %{y:.3s} MACs"
                    "<extra></extra>",
                )
            )
        for series, style in _SERIES_STYLE.items():
            shown = [model for model in models if _series(model) == series]
            if not shown:
                continue
            traces.append(
                go.Scatter(
                    x=[model.params for model in shown],
                    y=[model.macs for model in shown],
                    mode="markers+text",
                    text=[model.accuracy for model in shown],
                    textposition=style["position"],
                    textfont={"size": 10},
                    marker={
                        "symbol": style["symbol"],
                        "color": style["color"],
                        "size": style["size"],
                    },
                    name=series,
                    legendgroup=series,
                    showlegend=series not in in_legend,
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                    customdata=[model.name for model in shown],
                    hovertemplate=f"{series.split(':')[0]} %{{customdata}}<br>%{{x:,}} parameters, "
                    f"%{{y:.3s}} MACs<br>{family.metric}: %{{text}}<extra></extra>",
                )
            )
            in_legend.add(series)
    return go.Figure(
        data=traces,
        layout={
            **layout,
            "annotations": annotations,
            "legend": {"orientation": "h", "y": -0.1},
            "margin": {"t": 10, "l": 50, "r": 10, "b": 40},
            "height": 620,
        },
    )
