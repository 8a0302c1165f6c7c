"""Handlers of the Explore tab: control values in, summary views out.

The UI wires Gradio components to these functions and nothing else; they are equally the
API (`api_name`s in app.py) that gradio_client callers reach, so they validate everything.
"""

from __future__ import annotations

import dataclasses
import gc
import math
from typing import Any

import gradio as gr
from gradio.route_utils import get_root_url

from .charts import channel_growth_figure, stage_cost_figure
from .config import DenseNetConfig, short_repr
from .hosting import release_freed_memory
from .presets import PRESET_INFO, PRESETS
from .report import headline, layer_table
from .share import config_code, from_query, to_query
from .summary import DEFAULT_BATCH_SIZE, summarize

# The order of the config controls, as app.py lays them out and the API receives them.
CONTROLS = ("preset", "height", "width", "channels", "num_classes", "growth_rate",
            "block_layers", "bottleneck", "bn_size", "compression", "init_features", "stem",
            "style", "transition_features", "dropout_rate", "classifier_activation")
MAX_BATCH_SIZE = 4096
CUSTOM = "custom"


def _block_layers(text: Any) -> Any:
    """'6, 12, 24, 16' -> (6, 12, 24, 16); lists pass through for the config to judge."""
    if not isinstance(text, str):
        return text
    try:
        return tuple(int(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        raise ValueError(f"block_layers={short_repr(text)} is invalid: allowed "
                         "comma-separated layer counts, e.g. 6, 12, 24, 16") from None


def config_from_controls(preset, height, width, channels, num_classes, growth_rate,
                         block_layers, bottleneck, bn_size, compression, init_features, stem,
                         style, transition_features, dropout_rate,
                         classifier_activation) -> DenseNetConfig:
    """A validated config from the Explore controls; `ValueError` names the bad field.

    A transition width of 0 (or empty) means 'use the compression θ'.
    """
    del preset  # the preset only seeds the controls; the controls are the truth
    if transition_features in (None, "", 0, 0.0):
        transition_features = None
    return DenseNetConfig(
        input_shape=(height, width, channels), num_classes=num_classes,
        growth_rate=growth_rate, block_layers=_block_layers(block_layers),
        bottleneck=bottleneck, bn_size=bn_size, compression=compression,
        init_features=init_features, stem=stem, style=style,
        transition_features=transition_features, dropout_rate=dropout_rate,
        classifier_activation=classifier_activation)


def controls_from_config(config: DenseNetConfig, preset: str) -> list:
    """The control values that show `config` (the inverse of `config_from_controls`)."""
    height, width, channels = config.input_shape
    return [preset, height, width, channels, config.num_classes, config.growth_rate,
            ", ".join(map(str, config.block_layers)), config.bottleneck, config.bn_size,
            config.compression, config.init_features, config.stem, config.style,
            config.transition_features or 0, config.dropout_rate, config.classifier_activation]


def _batch_size(value: Any) -> int:
    # The range first: it refuses NaN, infinity and huge ints before int() could overflow.
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not 1 <= value <= MAX_BATCH_SIZE or value != int(value):
        raise ValueError(f"batch_size={short_repr(value)} is invalid: allowed an integer "
                         f"from 1 to {MAX_BATCH_SIZE}")
    return int(value)


def _ui_error(error: Exception) -> gr.Error:
    return gr.Error(str(error), print_exception=False)


def preset_note(preset: str, config: DenseNetConfig) -> str:
    if preset in PRESET_INFO and PRESETS[preset] == config:
        info = PRESET_INFO[preset]
        return f"**{info.title}.** {info.note}"
    base = f" (started from `{preset}`)" if preset in PRESETS else ""
    return f"**Custom configuration**{base}."


def page_url(request: gr.Request | None) -> str:
    """The app's public address for this request (proxies included), or '' if unknown."""
    raw = getattr(request, "request", None)
    if raw is None:
        return ""
    try:
        return get_root_url(raw, raw.url.path, None) + "/"
    except (AttributeError, KeyError, ValueError):
        return ""


def explore(preset, height, width, channels, num_classes, growth_rate, block_layers,
            bottleneck, bn_size, compression, init_features, stem, style, transition_features,
            dropout_rate, classifier_activation, batch_size,
            request: gr.Request | None = None) -> tuple:
    """All Explore views for the control values (see `CONTROLS`) and a memory batch size.

    Returns (headline markdown, channel chart, stage chart, layer table, code, share link).
    """
    controls = (preset, height, width, channels, num_classes, growth_rate, block_layers,
                bottleneck, bn_size, compression, init_features, stem, style,
                transition_features, dropout_rate, classifier_activation)
    try:
        config = config_from_controls(*controls)
        batch = _batch_size(batch_size)
    except ValueError as error:
        raise _ui_error(error) from None
    summary = summarize(config)
    preset = preset if isinstance(preset, str) else CUSTOM
    rows = "\n".join(f"| {label} | {value} |" for label, value in headline(summary, batch))
    refusal = summary.build_refusal()
    text = (f"{preset_note(preset, config)}\n\n| Figure | Value |\n|---|---|\n{rows}\n\n"
            f"*Memory:* {summary.activation_memory(batch).reason}"
            + (f"\n\n*Keras build:* {refusal}." if refusal else ""))
    columns, table = layer_table(summary)
    link = page_url(request) + "?" + to_query(config, preset if preset in PRESETS else None)
    return (text, channel_growth_figure(summary), stage_cost_figure(summary),
            {"headers": columns, "data": table}, config_code(config), link)


def load_preset(name: str, batch_size: int = DEFAULT_BATCH_SIZE,
                request: gr.Request | None = None) -> tuple:
    """Control values for preset `name`, followed by its Explore views."""
    if not isinstance(name, str) or name not in PRESETS:
        raise gr.Error(f"preset={short_repr(name)} is unknown: allowed "
                       f"{', '.join(PRESETS)}", print_exception=False)
    controls = controls_from_config(PRESETS[name], name)
    return (*controls, *explore(*controls, batch_size, request=request))


def load_link(request: gr.Request) -> tuple:
    """Controls and views for the page's query string (a shared link), else densenet121."""
    params = dict(request.query_params) if request is not None else {}
    preset = params.get("preset") if params.get("preset") in PRESETS else "densenet121"
    config = PRESETS[preset]
    if any(field.name in params for field in dataclasses.fields(DenseNetConfig)):
        try:
            config = from_query(params)
        except ValueError as error:
            gr.Warning(f"The link's configuration was not used: {error}")
    controls = controls_from_config(config, preset)
    return (*controls, *explore(*controls, DEFAULT_BATCH_SIZE, request=request))


def build_with_keras(*values) -> str:
    """Build the real Keras model; return `model.summary()` and the count comparison."""
    try:
        config = config_from_controls(*values)
    except (ValueError, TypeError) as error:
        raise _ui_error(error) from None
    summary = summarize(config)
    refusal = summary.build_refusal()
    if refusal:
        raise gr.Error(f"Not built: {refusal}.", print_exception=False)
    from .model import build_model

    model = build_model(config)
    lines: list[str] = []
    model.summary(line_length=110, print_fn=lambda line, *args, **kwargs: lines.append(line))
    keras_total = model.count_params()
    keras_trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    del model
    gc.collect()
    release_freed_memory()
    agree = (keras_total, keras_trainable) == (summary.total_params, summary.trainable_params)
    verdict = ("✅ Keras and the analytic summary agree" if agree
               else "❌ Keras and the analytic summary DISAGREE")
    return (f"{verdict}: Keras count_params() = {keras_total:,} "
            f"(trainable {keras_trainable:,}); analytic = {summary.total_params:,} "
            f"(trainable {summary.trainable_params:,}).\n\n" + "\n".join(lines))
