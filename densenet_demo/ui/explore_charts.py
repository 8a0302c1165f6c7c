"""Plotly figures of a summary: channel growth along the network, and cost per stage."""

from __future__ import annotations

import plotly.graph_objects as go

from ..architecture.summary import Summary

_BLOCK_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def channel_growth_figure(summary: Summary) -> go.Figure:
    """Channels of the main feature map after each unit (x = the layer table's # column).

    Each dense layer adds k channels (a straight ramp per block); each transition cuts the
    width to θ·m and halves the resolution (a drop, shaded).
    """
    traces, shapes, annotations = [], [], []
    previous = None  # the last trunk point: each block's ramp starts at its input width
    stage_start: dict[str, int] = {}
    points: dict[str, list] = {}
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
    for number, (stage, stage_points) in enumerate(points.items()):
        traces.append(
            go.Scatter(
                x=[i for i, _ in stage_points],
                y=[row.output_shape[-1] for _, row in stage_points],
                mode="lines+markers",
                name=stage,
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
            "title": {"text": "Channels per layer"},
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


def stage_cost_figure(summary: Summary) -> go.Figure:
    """Parameters and MACs per stage, side by side."""
    stages = summary.stages
    names = [s.stage for s in stages]
    bars = [
        go.Bar(
            x=names,
            y=[s.params for s in stages],
            name="parameters",
            marker_color="#1f77b4",
            xaxis="x",
            yaxis="y",
            hovertemplate="%{x}: %{y:,} parameters<extra></extra>",
        ),
        go.Bar(
            x=names,
            y=[s.macs for s in stages],
            name="MACs",
            marker_color="#ff7f0e",
            xaxis="x2",
            yaxis="y2",
            hovertemplate="%{x}: %{y:,} MACs<extra></extra>",
        ),
    ]
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
            "title": {"text": "Cost per stage"},
            "showlegend": False,
            "xaxis": {"domain": [0, 0.45]},
            "xaxis2": {"domain": [0.55, 1], "anchor": "y2"},
            "yaxis": {"anchor": "x"},
            "yaxis2": {"anchor": "x2"},
            "annotations": titles,
            "margin": {"t": 70, "l": 50, "r": 10, "b": 40},
            "height": 340,
        },
    )
