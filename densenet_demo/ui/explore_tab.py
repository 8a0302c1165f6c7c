"""The Explore tab: every hyperparameter in, the analytic summary's views out.

The inputs are laid out from the control spec (`architecture.controls.CONTROLS`) and reach the
handlers by name, so the API's parameters carry the spec's names. The handlers are equally the
API (`/explore`, `/load_preset`, `/load_link`, `/build_keras`) that gradio_client callers
reach, so they validate everything.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import math

import gradio as gr
from gradio.route_utils import get_root_url

from ..architecture.config import DenseNetConfig, short_repr
from ..architecture.controls import (
    BATCH_SIZE,
    CONTROLS,
    CUSTOM,
    DEFAULT_PRESET,
    check_batch_size,
    config_from_controls,
    controls_from_config,
    preset_controls,
)
from ..architecture.presets import PRESET_INFO, PRESETS
from ..architecture.report import headline, layer_table, preset_table
from ..architecture.share import config_code, from_query, to_query
from ..architecture.summary import summarize
from .components import component_for, ui_error
from .explore_charts import channel_growth_figure, stage_cost_figure
from .hosting import BUILD_CONCURRENCY, release_freed_memory

# What `explore` returns, in order.
VIEWS = ("headline", "channel chart", "stage chart", "layer table", "code", "share link")
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


def render(demo: gr.Blocks) -> None:
    """The tab's components and their events (call inside `gr.Tab`)."""
    initial = preset_controls(DEFAULT_PRESET)
    with gr.Row(elem_id="explore-layout"):
        with gr.Column(scale=1, min_width=300):
            inputs: dict[str, gr.components.Component] = {}
            for row, controls in itertools.groupby(CONTROLS, key=lambda control: control.row):
                with gr.Row() if row else contextlib.nullcontext():
                    for control in controls:
                        inputs[control.name] = component_for(control, initial[control.name])
            batch_size = component_for(BATCH_SIZE, BATCH_SIZE.default)
        with gr.Column(scale=2):
            refusal = gr.Markdown(visible=False, elem_classes=["refusal"])
            headline_view = gr.Markdown(label="Headline figures")
            channel_chart = gr.Plot(label="Channel growth")
            stage_chart = gr.Plot(label="Cost per stage")
            share_link = gr.Textbox(label="Link to this configuration", buttons=["copy"])
    with gr.Accordion("How DenseNet works", open=False):
        gr.Markdown(HOW_IT_WORKS)
    with gr.Accordion("All presets at a glance", open=False):
        gr.Markdown(preset_table())
    with gr.Accordion("Layer table", open=False):
        layer_view = gr.Dataframe(label="Every Keras layer", interactive=False, max_height=500)
    with gr.Accordion("Keras code for this configuration", open=False):
        code = gr.Code(language="python", label="Rebuild it with this package")
    with gr.Accordion("Build with Keras", open=False):
        build_button = gr.Button("Build the real Keras model and compare", variant="primary")
        keras_summary = gr.Code(label="model.summary()", language=None)

    views = [headline_view, channel_chart, stage_chart, layer_view, code, share_link]
    preset = inputs["preset"]
    every_input = {**inputs, BATCH_SIZE.name: batch_size}
    # Explore updates are pure arithmetic (~10 ms): served directly, not through the queue.
    # Gradio shows no error of such an event on the page, so the page's own event checks the
    # values itself and shows a refusal beside the figures it leaves as they were.
    gr.on(
        [component.input for component in inputs.values() if component is not preset]
        + [batch_size.input],
        on_page(every_input),
        inputs_kwargs=every_input,
        outputs=[refusal, *views, keras_summary],
        preprocess=False,
        queue=False,
        # A change made while the last one is computed runs after it; by default it was
        # dropped, leaving figures of an older value beside the control's new one.
        trigger_mode="always_last",
        api_visibility="private",
    )
    # API callers get the same views, and a refusal as an error, from /explore.
    gr.Button(visible=False).click(
        explore,
        inputs_kwargs=every_input,
        outputs=views,
        api_name="explore",
        api_description="The analytic summary of one DenseNet configuration: headline figures "
        "(depth, parameters, MACs, memory), channel growth and cost-per-stage charts, the layer "
        "table, Python code that rebuilds it and a link that reopens it. `preset` is only a "
        "label: the architecture is what the other values say (call /load_preset for a "
        "preset's values). Every value is checked; a refused one is named in the error.",
        queue=False,
    )
    preset.input(
        load_preset,
        inputs=[preset, batch_size],
        outputs=[*inputs.values(), *views],
        api_name="load_preset",
        api_description="A preset's control values (in /explore's order), followed by its "
        "summary views as /explore returns them.",
        queue=False,
    )
    demo.load(
        load_link,
        inputs=None,
        outputs=[*inputs.values(), *views],
        api_name="load_link",
        api_description="The control values and summary views of the page address's query "
        "string (a shared link); without one, densenet121's.",
        queue=False,
    )
    build_button.click(
        build_with_keras,
        inputs_kwargs=inputs,
        outputs=keras_summary,
        api_name="build_keras",
        api_description="Build the real Keras model of a configuration (values as for "
        "/explore) and return model.summary() with a check that Keras' parameter counts AGREE "
        "with the analytic summary's. A model above the build limits is refused, with the "
        "reason.",
        **BUILD_CONCURRENCY,
    )


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


def on_page(components: dict[str, gr.components.Component]):
    """The page's Explore update: `explore` over the raw values of `components` (the event
    runs with preprocess=False), each checked by its own component first.

    Returns (refusal, the six views, the Keras build output): on success the refusal is hidden,
    the views are new and the build output (of the previous configuration) is cleared; on a
    refused value the refusal names it and the views are kept, marked stale.
    """

    def update(request: gr.Request | None = None, **payloads) -> tuple:
        try:
            values = {
                name: components[name].preprocess(payload) for name, payload in payloads.items()
            }
            views = explore(request, **values)
        except gr.Error as error:
            note = (
                f"**Not updated:** {error.message} The figures below are still those of "
                "the last valid configuration."
            )
            kept = [gr.update(elem_classes=["stale"]) for _ in VIEWS]
            return gr.update(value=note, visible=True), *kept, gr.skip()
        fresh = [gr.update(value=view, elem_classes=[]) for view in views]
        return gr.update(value="", visible=False), *fresh, None

    return update


def explore(request: gr.Request | None = None, **values) -> tuple:
    """All Explore views for the control values (by name, see `CONTROLS`) and `batch_size`.

    Returns the `VIEWS`: headline markdown, channel chart, stage chart, layer table, code and
    share link.
    """
    try:
        config = config_from_controls(values)
        batch = check_batch_size(values[BATCH_SIZE.name])
    except ValueError as error:
        raise ui_error(error) from None
    summary = summarize(config)
    preset = values["preset"] if isinstance(values["preset"], str) else CUSTOM
    rows = "\n".join(f"| {label} | {value} |" for label, value in headline(summary, batch))
    refusal = summary.build_refusal()
    text = (
        f"{preset_note(preset, config)}\n\n| Figure | Value |\n|---|---|\n{rows}\n\n"
        f"*Memory:* {summary.activation_memory(batch).reason}"
        + (f"\n\n*Keras build:* {refusal}." if refusal else "")
    )
    columns, table = layer_table(summary)
    link = page_url(request) + "?" + to_query(config, preset if preset in PRESETS else None)
    return (
        text,
        channel_growth_figure(summary),
        stage_cost_figure(summary),
        {"headers": columns, "data": table},
        config_code(config),
        link,
    )


def _controls_and_views(
    config: DenseNetConfig, preset: str, batch_size, request: gr.Request | None
) -> tuple:
    values = controls_from_config(config, preset)
    return (*values.values(), *explore(request, **values, batch_size=batch_size))


def load_preset(
    name: str, batch_size: int = BATCH_SIZE.default, request: gr.Request | None = None
) -> tuple:
    """Control values for preset `name`, followed by its Explore views."""
    if not isinstance(name, str) or name not in PRESETS:
        raise gr.Error(
            f"preset={short_repr(name)} is unknown: allowed {', '.join(PRESETS)}",
            print_exception=False,
        )
    return _controls_and_views(PRESETS[name], name, batch_size, request)


def load_link(request: gr.Request) -> tuple:
    """Controls and views for the page's query string (a shared link), else the default
    preset."""
    params = dict(request.query_params) if request is not None else {}
    preset = params.get("preset") if params.get("preset") in PRESETS else DEFAULT_PRESET
    config = PRESETS[preset]
    if any(field.name in params for field in dataclasses.fields(DenseNetConfig)):
        try:
            config = from_query(params)
        except ValueError as error:
            gr.Warning(f"The link's configuration was not used: {error}")
    return _controls_and_views(config, preset, BATCH_SIZE.default, request)


def build_with_keras(**values) -> str:
    """Build the real Keras model; return `model.summary()` and the count comparison."""
    from ..architecture.keras_model import build_model

    try:
        config = config_from_controls(values)
    except (ValueError, TypeError) as error:
        raise ui_error(error) from None
    try:
        model = build_model(config)  # refused above the build limits, before Keras works
    except ValueError as error:
        raise gr.Error(f"Not built: {error}.", print_exception=False) from None
    lines: list[str] = []
    model.summary(line_length=110, print_fn=lambda line, *args, **kwargs: lines.append(line))
    keras_total = model.count_params()
    keras_trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    del model
    gc.collect()
    release_freed_memory()
    summary = summarize(config)
    agree = (keras_total, keras_trainable) == (summary.total_params, summary.trainable_params)
    # Words, not ✅/❌: Debian's Chromium has no font for those and draws empty boxes.
    verdict = "AGREE" if agree else "DISAGREE"
    return (
        f"{verdict}: Keras count_params() = {keras_total:,} "
        f"(trainable {keras_trainable:,}); analytic = {summary.total_params:,} "
        f"(trainable {summary.trainable_params:,}).\n\n" + "\n".join(lines)
    )
