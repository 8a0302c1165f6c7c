"""The Explore tab: every hyperparameter in, the analytic summary's views out.

The inputs are laid out from the control spec (`architecture.controls.CONTROLS`) and reach the
handlers by name; handlers return their results by name too (`VIEWS`). The handlers are
equally the API (`/explore`, `/compare`, `/load_preset`, `/load_link`, `/build_keras`,
`/export_*`, declared in `endpoints`) that gradio_client callers reach, so they validate
everything.

Compare: "Pin as A" keeps the current configuration in the session (`gr.State`); while one is
pinned, the figures show the current configuration (B) beside it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import math
from collections.abc import Callable
from typing import NamedTuple

import gradio as gr
from gradio.route_utils import get_root_url

from ..architecture.compare import (
    compare_figures,
    comparison_table,
    differing_fields,
    fields_table,
)
from ..architecture.config import DenseNetConfig, short_repr
from ..architecture.controls import (
    BATCH_SIZE,
    CONTROLS,
    CUSTOM,
    DEFAULT_PRESET,
    MEMORY_CONTROLS,
    MEMORY_SIZE,
    OPTIMIZER,
    MemorySettings,
    check_memory,
    check_memory_inputs,
    config_from_controls,
    controls_from_config,
    preset_controls,
)
from ..architecture.presets import PRESET_INFO, PRESETS
from ..architecture.report import headline, layer_table, preset_table
from ..architecture.share import config_code, file_stem, from_query, read_config, to_query
from ..architecture.summary import Summary, summarize
from ..architecture.training_memory import MEMORY_ACCOUNT
from . import exports
from .components import component_for, ui_error
from .explore_charts import channel_growth_figure, published_map_figure, stage_cost_figure
from .hosting import BUILD_CONCURRENCY, EXPORT_CONCURRENCY, release_freed_memory
from .registration import wired

# What `explore` returns, by name (the API's output names), in the API's order.
VIEWS = ("headline", "channel_growth", "stage_cost", "layer_table", "code", "link")
HOW_IT_WORKS = """
**Dense block.** Layer ℓ receives the concatenation of the block input and the outputs of all
ℓ−1 earlier layers, and adds **k** (the growth rate) new channels: after L layers a block holds
k₀ + L·k channels. Each layer is BN → ReLU → 3×3 conv.

**Bottleneck (-B).** A BN → ReLU → 1×1 conv to `bn_size`·k channels first, so the 3×3 conv
reads a fixed width instead of the growing concatenation.

**Transition.** Between blocks: BN → ReLU → 1×1 conv to ⌊θ·m⌋ channels (**compression** θ,
-C), then 2×2 average pooling halves the resolution.

DenseNet-BC uses both. Watch the channel chart: a ramp of slope k in each block, a drop at each
transition.
"""


class ExploreView(NamedTuple):
    """What the page passes other tabs: Explore's configuration as a share link, and a way to
    have Explore redrawn once they change it."""

    link: gr.Textbox
    show_link: Callable  # (an event that set `link`) -> the event redrawing Explore from it


def render(demo: gr.Blocks) -> ExploreView:
    """The tab's components and their page events (call inside `gr.Tab`); its API is
    declared in `endpoints`."""
    initial = preset_controls(DEFAULT_PRESET)
    with gr.Row(elem_id="explore-layout"):
        with gr.Column(scale=1, min_width=300):
            inputs: dict[str, gr.components.Component] = {}
            for row, controls in itertools.groupby(CONTROLS, key=lambda control: control.row):
                with gr.Row() if row else contextlib.nullcontext():
                    for control in controls:
                        inputs[control.name] = component_for(control, initial[control.name])
            memory_inputs = {c.name: component_for(c, c.default) for c in MEMORY_CONTROLS}
        with gr.Column(scale=2):
            refusal = gr.Markdown(visible=False, elem_classes=["refusal"])
            with gr.Row(elem_id="compare-buttons"):
                pin_button = gr.Button("Pin as A (compare the next changes with it)", size="sm")
                unpin_button = gr.Button("Unpin A", size="sm", visible=False)
            headline_view = gr.Markdown(label="Headline figures", elem_id="headline")
            channel_chart = gr.Plot(label="Channel growth")
            stage_chart = gr.Plot(label="Cost per stage")
            # An input of the downloads' event below, yet never typed into.
            share_link = gr.Textbox(
                label="Link to this configuration", buttons=["copy"], interactive=False
            )
            with gr.Row(elem_id="downloads"):
                csv_download = gr.DownloadButton("Layer table (.csv)", size="sm")
                json_download = gr.DownloadButton("Configuration (.json)", size="sm")
                code_download = gr.DownloadButton("Keras code (.py)", size="sm")
    pinned = gr.State(None)  # the configuration pinned as A (a DenseNetConfig), per session
    with gr.Accordion("How DenseNet works", open=False):
        gr.Markdown(HOW_IT_WORKS)
    with gr.Accordion("All presets at a glance", open=False):
        gr.Markdown(preset_table())
    with gr.Accordion("Where it lands among published DenseNets", open=False):
        published_map = gr.Plot(label="Published DenseNets: parameters against MACs")
    with gr.Accordion("Layer table", open=False):
        differences_view = gr.Markdown(label="Fields that differ from A", visible=False)
        layer_view = gr.Dataframe(label="Every Keras layer", interactive=False, max_height=500)
    with gr.Accordion("Keras code for this configuration", open=False):
        code = gr.Code(language="python", label="Rebuild it with this package")
    with gr.Accordion("Build with Keras", open=False):
        build_button = gr.Button("Build the real Keras model and compare", variant="primary")
        keras_summary = gr.Code(label="model.summary()", language=None)
        # Shown once a model is built; the button itself is never updated but by value (see
        # `exports`), so its file stays in the cache cleanup's sight.
        with gr.Column(visible=False) as keras_file_box:
            keras_download = gr.DownloadButton("The built model, untrained (.keras)")

    views = dict(zip(VIEWS, (headline_view, channel_chart, stage_chart, layer_view, code)))
    views["link"] = share_link
    preset = inputs["preset"]
    every_input = {**inputs, **memory_inputs}
    memory = list(memory_inputs.values())
    shown = {**inputs, **views}  # what a new configuration redraws: the controls, the views
    # Explore updates are pure arithmetic (~10 ms): served directly, not through the queue.
    # Gradio shows no error of such an event on the page (gradio_fixes, 7), so the page's own
    # event checks the values itself and shows a refusal beside the figures it leaves as they
    # were. Pinning and unpinning redraw the same views, the same way.
    page_outputs = {
        "pinned": pinned,
        "refusal": refusal,
        **views,
        "differences": differences_view,
        "unpin": unpin_button,
        "keras_summary": keras_summary,
        "keras_file": keras_file_box,
    }
    page_event = {
        "inputs_kwargs": {**every_input, "pinned": pinned},
        "preprocess": False,
        "queue": False,
        "api_visibility": "private",
    }
    gr.on(
        [component.input for component in inputs.values() if component is not preset]
        + [component.input for component in memory],
        **wired(on_page(every_input, "update"), page_outputs),
        # A change made while the last one is computed runs after it; by default it was
        # dropped, leaving figures of an older value beside the control's new one.
        trigger_mode="always_last",
        api_name="page_update",  # private names, as benchmarks/explore.py calls them
        **page_event,
    )
    for button, action in ((pin_button, "pin"), (unpin_button, "unpin")):
        button.click(
            **wired(on_page(every_input, action), page_outputs), api_name=action, **page_event
        )
    # Whatever changed the configuration changed its link: the downloads and the fields that
    # differ from A follow it.
    files = {
        "differences": differences_view,
        "csv_file": csv_download,
        "json_file": json_download,
        "code_file": code_download,
    }
    # Files written to disk: in the queue, under the exports' concurrency limit.
    share_link.change(
        **wired(page_files, files),
        inputs=[share_link, pinned],
        show_progress="hidden",
        api_visibility="private",
        **EXPORT_CONCURRENCY,
    )
    share_link.change(
        published_map_view,
        inputs=share_link,
        outputs=published_map,
        queue=False,
        api_visibility="private",
    )
    # The preset menu draws B beside the session's pinned A.
    preset.input(
        **wired(load_preset, shown),
        inputs=[preset, *memory, pinned],
        queue=False,
        api_visibility="private",
    )
    demo.load(
        **wired(load_link, shown),
        queue=False,
        api_visibility="private",
    )
    built = {"keras_summary": keras_summary, "keras_file": keras_download}
    build_button.click(
        **wired(export_keras, built),
        inputs_kwargs=inputs,
        api_visibility="private",
        **BUILD_CONCURRENCY,
    ).success(
        shown_column,
        outputs=keras_file_box,
        queue=False,
        api_visibility="private",
    )

    def show_link(event):
        """Chains on `event` (which set the link) Explore redrawn from its link."""
        return event.then(
            **wired(show_config, shown),
            inputs=[share_link, *memory, pinned],
            queue=False,
            api_visibility="private",
        )

    return ExploreView(share_link, show_link)


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


def on_page(components: dict[str, gr.components.Component], action: str):
    """The page's Explore update, or its pin or unpin (`action`): the views over the raw values
    of `components` (the event runs with preprocess=False), each checked by its own component
    first, beside the pinned A if there is one.

    Returns, by name: on success the refusal hidden and the new views and, after a change,
    the build output (of the previous configuration) cleared, after a pin or unpin the pinned
    A, the fields that differ from it and the unpin button; on a refused value the refusal
    naming it and the views kept, marked stale, with nothing pinned or unpinned.
    """
    if action not in ("update", "pin", "unpin"):
        raise AssertionError(f"unknown page action {action!r}")

    def update(request: gr.Request | None = None, pinned=None, **payloads) -> dict:
        try:
            values = {
                name: components[name].preprocess(payload) for name, payload in payloads.items()
            }
            config, memory = _checked(values)
        except gr.Error as error:
            note = (
                f"**Not updated:** {error.message} The figures below are still those of "
                "the last valid configuration."
            )
            kept = {name: gr.update(elem_classes=["stale"]) for name in VIEWS}
            return {"refusal": gr.update(value=note, visible=True), **kept}
        if action != "update":
            pinned = config if action == "pin" else None
        views = _views(config, memory, values["preset"], pinned, request)
        shown = {
            "refusal": gr.update(visible=False),
            **{name: gr.update(value=view, elem_classes=[]) for name, view in views.items()},
        }
        if action == "update":  # the link follows the change, and `page_files` the link
            return {**shown, "keras_summary": None, "keras_file": gr.Column(visible=False)}
        return {
            **shown,
            "pinned": pinned,
            "differences": _differences(pinned, config),
            "unpin": gr.update(visible=pinned is not None),
        }

    return update


def _checked(values: dict) -> tuple[DenseNetConfig, MemorySettings]:
    """The config and memory-estimate settings of the control values; a refusal as
    `gr.Error`."""
    try:
        return config_from_controls(values), check_memory_inputs(values)
    except ValueError as error:
        raise ui_error(error) from None


def explore(request: gr.Request | None = None, **values) -> dict:
    """All Explore views for the control values (by name, see `CONTROLS`) and the memory
    estimate's (`MEMORY_CONTROLS`: batch size, optimizer, memory size).

    Returns the `VIEWS` by name: headline markdown, channel chart, stage chart, layer table,
    code and share link.
    """
    config, memory = _checked(values)
    return _views(config, memory, values["preset"], None, request)


def _views(
    config: DenseNetConfig,
    memory: MemorySettings,
    preset,
    pinned: DenseNetConfig | None,
    request: gr.Request | None,
) -> dict:
    """The `VIEWS` of `config` by name, beside those of `pinned` (A) if given."""
    summary = summarize(config)
    summary_a = summarize(pinned) if pinned is not None else None
    preset = preset if isinstance(preset, str) else CUSTOM
    note = preset_note(preset, config)
    if pinned is not None:
        note = f"**B** (current): {note}\n\n**A** (pinned): {_name(pinned)}."
    columns, table = layer_table(summary)
    link = page_url(request) + "?" + to_query(config, preset if preset in PRESETS else None)
    return {
        "headline": _headline_text(note, summary, memory, summary_a),
        "channel_growth": channel_growth_figure(summary, summary_a),
        "stage_cost": stage_cost_figure(summary, summary_a),
        "layer_table": {"headers": columns, "data": table},
        "code": config_code(config),
        "link": link,
    }


def _name(config: DenseNetConfig) -> str:
    stem = file_stem(config)
    return f"`{stem}`" if stem in PRESETS else "a custom configuration"


def _headline_text(
    note: str, summary: Summary, memory: MemorySettings, pinned: Summary | None
) -> str:
    """The headline figures as Markdown; beside A's, with B − A and B / A, if `pinned`."""
    if pinned is None:
        rows = "\n".join(f"| {label} | {value} |" for label, value in headline(summary, *memory))
        table = f"| Figure | Value |\n|---|---|\n{rows}"
    else:
        table = comparison_table(compare_figures(pinned, summary, *memory))
    refusal = summary.build_refusal()
    reason = summary.activation_memory(memory.batch_size).reason
    return f"{note}\n\n{table}\n\n*Memory:* {reason} {MEMORY_ACCOUNT}" + (
        f"\n\n*Keras build:* {refusal}." if refusal else ""
    )


def _differences(pinned: DenseNetConfig | None, config: DenseNetConfig) -> dict:
    """The layer-table accordion's list of the config fields that differ from A (hidden
    without A)."""
    if pinned is None:
        return gr.update(value="", visible=False)
    text = "**Fields that differ from A** (pinned):\n\n" + fields_table(
        differing_fields(pinned, config)
    )
    return gr.update(value=text, visible=True)


def compare(
    config_a,
    config_b,
    batch_size=BATCH_SIZE.default,
    optimizer=OPTIMIZER.default,
    memory_gib=MEMORY_SIZE.default,
) -> dict:
    """/compare: the headline, charts and differing fields of B beside A, each given as a
    `DenseNetConfig.to_dict` object or a share link (`share.read_config`); by name."""
    try:
        a, b = read_config(config_a, "config_a"), read_config(config_b, "config_b")
        memory = check_memory(batch_size, optimizer, memory_gib)
    except ValueError as error:
        raise ui_error(error) from None
    summary_a, summary_b = summarize(a), summarize(b)
    note = f"**A:** {_name(a)}. **B:** {_name(b)}."
    return {
        "headline": _headline_text(note, summary_b, memory, summary_a),
        "channel_growth": channel_growth_figure(summary_b, summary_a),
        "stage_cost": stage_cost_figure(summary_b, summary_a),
        "differences": fields_table(differing_fields(a, b)),
    }


def _controls_and_views(
    config: DenseNetConfig,
    preset: str,
    memory_values: tuple,
    request: gr.Request | None,
    pinned: DenseNetConfig | None = None,
) -> dict:
    """The control values of `config` and its views for the memory estimate's values
    (`check_memory`'s arguments), keyed by name."""
    values = controls_from_config(config, preset)
    try:
        memory = check_memory(*memory_values)
    except ValueError as error:
        raise ui_error(error) from None
    return {**values, **_views(config, memory, preset, pinned, request)}


def load_preset(
    name: str,
    batch_size: int = BATCH_SIZE.default,
    optimizer: str = OPTIMIZER.default,
    memory_gib: float = MEMORY_SIZE.default,
    pinned: DenseNetConfig | None = None,
    request: gr.Request | None = None,
) -> dict:
    """Control values for preset `name` and its Explore views (beside the page's pinned A, if
    any), by name."""
    if not isinstance(name, str) or name not in PRESETS:
        raise gr.Error(
            f"preset={short_repr(name)} is unknown: allowed {', '.join(PRESETS)}",
            print_exception=False,
        )
    memory_values = (batch_size, optimizer, memory_gib)
    return _controls_and_views(PRESETS[name], name, memory_values, request, pinned)


def show_config(
    value: str,
    batch_size: int = BATCH_SIZE.default,
    optimizer: str = OPTIMIZER.default,
    memory_gib: float = MEMORY_SIZE.default,
    pinned: DenseNetConfig | None = None,
    request: gr.Request | None = None,
) -> dict:
    """Controls and views of a configuration another tab sends (a share link or JSON)."""
    try:
        config = read_config(value)
    except ValueError as error:
        raise ui_error(error) from None
    preset = file_stem(config) if file_stem(config) in PRESETS else CUSTOM
    memory_values = (batch_size, optimizer, memory_gib)
    return _controls_and_views(config, preset, memory_values, request, pinned)


def load_link(request: gr.Request) -> dict:
    """Controls and views for the page's query string (a shared link), else the default
    preset. A link that cannot be used gives its preset (else the default), with the refused
    value said first in the headline: an API caller sees no warning toast."""
    params = dict(request.query_params) if request is not None else {}
    preset = params.get("preset") if params.get("preset") in PRESETS else DEFAULT_PRESET
    config = PRESETS[preset]
    refusal = None
    if any(field.name in params for field in dataclasses.fields(DenseNetConfig)):
        try:
            config = from_query(params)
        except ValueError as error:
            refusal = f"The link's configuration was not used: {error}; showing {preset} instead."
            gr.Warning(refusal)
    defaults = tuple(control.default for control in MEMORY_CONTROLS)
    values = _controls_and_views(config, preset, defaults, request)
    if refusal is not None:
        values["headline"] = f"{refusal}\n\n{values['headline']}"
    return values


def published_map_view(link: str):
    """The map of published DenseNets with the configuration of the page's `link` on it (the
    map follows the link, as the downloads do); unchanged if the link cannot be read."""
    try:
        config = read_config(link, "link")
    except ValueError:
        return gr.skip()
    return published_map_figure(summarize(config))


def page_files(link: str, pinned: DenseNetConfig | None = None) -> dict:
    """The page's downloads of the configuration its link holds (CSV, JSON and .py file), and
    the fields of it that differ from the pinned A."""
    try:
        config = read_config(link, "link")
    except ValueError as error:
        raise ui_error(error) from None
    return {
        "differences": _differences(pinned, config),
        "csv_file": exports.layer_table_file(config),
        "json_file": exports.config_file(config),
        "code_file": exports.code_file(config),
    }


def _config(values: dict) -> DenseNetConfig:
    try:
        return config_from_controls(values)
    except (ValueError, TypeError) as error:
        raise ui_error(error) from None


def export_layer_table(**values) -> str:
    """/export_layer_table: the layer table of the control values as a CSV file."""
    return exports.layer_table_file(_config(values))


def export_config(**values) -> str:
    """/export_config: the configuration of the control values as a JSON file."""
    return exports.config_file(_config(values))


def export_code(**values) -> str:
    """/export_code: the Python code of the control values' configuration as a .py file."""
    return exports.code_file(_config(values))


def shown_column() -> gr.Column:
    """Makes a hidden column visible (the built model's download, once there is one)."""
    return gr.Column(visible=True)


def build_with_keras(**values) -> str:
    """Build the real Keras model; return `model.summary()` and the count comparison."""
    return _built(values, save=False)["keras_summary"]


def export_keras(**values) -> dict:
    """`build_with_keras`, and the built, untrained model as a .keras file, by name."""
    return _built(values, save=True)


def _built(values: dict, save: bool) -> dict:
    """Build the model of the control values: `model.summary()` with the count comparison
    (keras_summary) and the .keras file if `save` (keras_file)."""
    from ..architecture.keras_model import build_model

    config = _config(values)
    try:
        model = build_model(config)  # refused above the build limits, before Keras works
    except ValueError as error:
        raise gr.Error(f"Not built: {error}.", print_exception=False) from None
    lines: list[str] = []
    model.summary(line_length=110, print_fn=lambda line, *args, **kwargs: lines.append(line))
    keras_total = model.count_params()
    keras_trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    path = exports.model_file(model, config) if save else None
    del model
    gc.collect()
    release_freed_memory()
    summary = summarize(config)
    agree = (keras_total, keras_trainable) == (summary.total_params, summary.trainable_params)
    # Words, not ✅/❌: Debian's Chromium has no font for those and draws empty boxes.
    verdict = "AGREE" if agree else "DISAGREE"
    report = (
        f"{verdict}: Keras count_params() = {keras_total:,} "
        f"(trainable {keras_trainable:,}); analytic = {summary.total_params:,} "
        f"(trainable {summary.trainable_params:,}).\n\n" + "\n".join(lines)
    )
    return {"keras_summary": report, "keras_file": path}
