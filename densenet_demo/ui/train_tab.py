"""The Train tab: the configuration set in Explore, trained on Fashion-MNIST in a worker
process (`training.jobs`), watched live, kept as a run, compared, and used in Classify.

The budget inputs are laid out from their spec (`training.budget.BUDGET_CONTROLS`). The page's
events and the API's (`/train`, `/cancel_training`, `/runs`, declared in `endpoints`) share the
handlers below; every value an API caller sends is checked again here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NamedTuple

import gradio as gr

from ..architecture.config import DenseNetConfig
from ..architecture.report import count, human
from ..architecture.share import read_config, to_query
from ..inference.card import ModelCard
from ..inference.runs import is_run_id, saved_run, saved_runs
from ..inference.service import MODELS
from ..training.budget import (
    BUDGET_CONTROLS,
    Budget,
    TrainingPlan,
    check_budget,
    fit_to_data,
    plan_training,
    small_variant,
)
from ..training.data import TRAIN_SET_IMAGES, VALIDATION_IMAGES
from ..training.jobs import JobState, TrainingJobs
from ..training.run_record import RunRecord
from . import exports
from .about_model import describe
from .components import component_for, ui_error
from .hosting import TRAIN_CONCURRENCY
from .registration import wired
from .train_views import (
    compare_runs,
    duration_words,
    live_curves_figure,
    progress_fraction,
    progress_markdown,
    runs_scatter_figures,
    runs_table,
    short_config,
)

INTRO = f"""Train the configuration set in **Explore** on Fashion-MNIST (28×28 grayscale, 10
classes): {VALIDATION_IMAGES:,} of the {TRAIN_SET_IMAGES:,} training images are held out to
validate each epoch, and the 10,000 test images are used once, when the run ends. The job
runs in a worker process of its own, one at a time on this server; each finished or stopped
run is kept below."""


class TrainView(NamedTuple):
    """What `wire_classify` connects once the Classify tab exists."""

    handlers: TrainHandlers
    chosen: gr.Dropdown
    use_button: gr.Button


def render(demo: gr.Blocks, handlers: TrainHandlers, explore) -> TrainView:
    """The tab's components and page events (call inside `gr.Tab`). `explore` is what the page
    passes from the Explore tab (its link, and `show_link`); `handlers` over no jobs: training
    is off, every event refuses."""
    gr.Markdown(INTRO)
    plan_view = gr.Markdown(elem_id="train-plan")
    with gr.Row():
        as_set = gr.Checkbox(
            False,
            label="Train Explore's configuration as set, however long it takes",
            visible=False,
        )
        show_variant = gr.Button("Show the variant in Explore", size="sm", visible=False)
    with gr.Row():
        budget = {
            control.name: component_for(control, control.default) for control in BUDGET_CONTROLS
        }
    with gr.Row():
        train_button = gr.Button("Train", variant="primary")
        cancel_button = gr.Button("Cancel", variant="stop", interactive=False)
    progress_bar = gr.HTML(_bar(0.0), elem_id="train-progress")
    progress_text = gr.Markdown(elem_id="train-status")
    curves = gr.Plot(label="Training curves (live)")
    job = gr.State(None)  # the run id of this page's job

    gr.Markdown("### Runs")
    table = gr.Dataframe(label="Saved runs, newest first", interactive=False, max_height=360)
    with gr.Row():
        by_params = gr.Plot(label="Validation accuracy against parameters")
        by_macs = gr.Plot(label="Validation accuracy against MACs")
    with gr.Row(equal_height=True):
        chosen = gr.Dropdown([], label="Run", scale=2)
        use_button = gr.Button("Classify with this run", scale=1)
        download = gr.DownloadButton("Weights and card (.zip)", scale=1)
    with gr.Accordion("Compare two runs", open=False):
        with gr.Row():
            run_a = gr.Dropdown([], label="Run A")
            run_b = gr.Dropdown([], label="Run B")
        compare_plot = gr.Plot(label="Curves: A solid, B dashed")
        differences = gr.Markdown()

    budget_inputs = list(budget.values())
    plan_inputs = [explore.link, as_set, *budget_inputs]
    planned = {"plan": plan_view, "as_set": as_set, "show_variant": show_variant}
    gr.on(
        [explore.link.change, as_set.input, *[c.change for c in budget_inputs]],
        **wired(handlers.plan_on_page, planned),
        inputs=plan_inputs,
        queue=False,
        api_visibility="private",
    )
    explore.show_link(
        show_variant.click(
            handlers.variant_link,
            inputs=explore.link,
            outputs=explore.link,
            queue=False,
            api_visibility="private",
        )
    )
    runs_views = {
        "table": table,
        "by_params": by_params,
        "by_macs": by_macs,
        "chosen": chosen,
        "run_a": run_a,
        "run_b": run_b,
    }
    followed = {
        "job": job,
        "progress_bar": progress_bar,
        "progress": progress_text,
        "curves": curves,
        "train_button": train_button,
        "cancel_button": cancel_button,
    }
    train_button.click(
        **wired(handlers.train_on_page, followed),
        inputs=plan_inputs,
        api_visibility="private",
        **TRAIN_CONCURRENCY,
    ).then(
        **wired(handlers.runs_views, runs_views),
        queue=False,
        api_visibility="private",
    )
    cancel_button.click(
        handlers.cancel_on_page,
        inputs=job,
        outputs=cancel_button,
        queue=False,
        api_visibility="private",
    )
    chosen.change(
        exports_run, inputs=chosen, outputs=download, queue=False, api_visibility="private"
    )
    compared = {"compare_plot": compare_plot, "differences": differences}
    gr.on(
        [run_a.change, run_b.change],
        **wired(handlers.compare, compared),
        inputs=[run_a, run_b],
        queue=False,
        api_visibility="private",
    )

    demo.load(
        **wired(handlers.plan_on_page, planned),
        inputs=plan_inputs,
        queue=False,
        api_visibility="private",
    )
    demo.load(
        **wired(handlers.runs_views, runs_views),
        queue=False,
        api_visibility="private",
    )
    return TrainView(handlers, chosen, use_button)


def wire_classify(view: TrainView, classify, tabs: gr.Tabs) -> None:
    """ "Classify with this run": the run joins the Classify tab's menu (`classify`, a
    `classify_tab.ClassifyView`), chosen, and `tabs` shows that tab."""
    shown = {"model": classify.model, "about_model": classify.about_model, "tabs": tabs}
    view.use_button.click(
        **wired(view.handlers.classify_with, shown),
        inputs=view.chosen,
        queue=False,
        api_visibility="private",
    )


def _bar(fraction: float) -> str:
    return (
        f'<div class="train-bar" role="progressbar" aria-valuenow="{fraction * 100:.0f}" '
        f'aria-valuemin="0" aria-valuemax="100"><div style="width: {fraction * 100:.1f}%">'
        "</div></div>"
    )


def exports_run(run_id: str | None):
    """The chosen run's files as one download (nothing chosen: no file)."""
    if not is_run_id(run_id):
        return None
    try:
        return exports.run_file(saved_run(run_id))
    except ValueError as error:
        raise ui_error(error) from None


def _config(value) -> DenseNetConfig:
    try:
        return read_config(value)
    except ValueError as error:
        raise ui_error(error) from None


def _budget(values: tuple) -> Budget:
    try:
        return check_budget(dict(zip((c.name for c in BUDGET_CONTROLS), values)))
    except ValueError as error:
        raise ui_error(error) from None


def plan_sentence(plan: TrainingPlan, budget: Budget, refusal: str = "") -> str:
    """What a click on Train will do, in one or two sentences."""
    summary = plan.summary
    size = (
        f"{summary.total_params:,} parameters, {human(summary.macs)} MACs per image; about "
        f"{duration_words(plan.seconds)} here for {budget.train_images:,} images × "
        f"{count(budget.epochs, 'epoch')}"
    )
    if plan.variant_reason:
        text = (
            f"**Explore's configuration is not trained as set:** {plan.variant_reason}. A click "
            f"on Train trains a small variant of it: {short_config(plan.config)} ({size})."
        )
    else:
        text = f"**Will train** {short_config(plan.config)} as set in Explore ({size})."
    return text + (f"\n\n**This server refuses it:** {refusal}." if refusal else "")


class TrainHandlers:
    """The tab's events over the server's `TrainingJobs` (None: training is off)."""

    def __init__(self, jobs: TrainingJobs | None, shipped: ModelCard | None) -> None:
        self.jobs = jobs
        self.shipped = shipped

    def _jobs(self) -> TrainingJobs:
        if self.jobs is None:
            raise gr.Error(
                "Training is turned off on this server (DENSENET_TRAINING=off).",
                print_exception=False,
            )
        return self.jobs

    # --- planning ----------------------------------------------------------------------

    def plan_on_page(self, link: str, as_set: bool, *budget_values) -> dict:
        """The plan in words, the 'as set' box and the variant button for the page."""
        try:
            config, budget = (
                read_config(link),
                check_budget(dict(zip((c.name for c in BUDGET_CONTROLS), budget_values))),
            )
        except ValueError as error:
            return {
                "plan": f"**Nothing to train:** {error}.",
                "show_variant": gr.update(visible=False),
            }
        plan = plan_training(config, budget, bool(as_set))
        refusal = ""
        if self.jobs is not None:
            try:
                self.jobs.limits.check(plan.summary, budget)
            except ValueError as error:
                refusal = str(error)
        return {
            "plan": plan_sentence(plan, budget, refusal),
            "as_set": gr.update(visible=plan.slow),
            "show_variant": gr.update(visible=bool(plan.variant_reason)),
        }

    def variant_link(self, link: str) -> str:
        """The share link of the small variant of the configuration in `link`."""
        return "?" + to_query(small_variant(_config(link)))

    # --- training ----------------------------------------------------------------------

    def train_on_page(self, link: str, as_set: bool, *budget_values) -> Iterator[dict]:
        """Start the plan's job and follow it: the job, progress bar and status, curves, and
        the Train and Cancel buttons."""
        config, budget = _config(link), _budget(budget_values)
        plan = plan_training(config, budget, bool(as_set))
        run_id = self._submit(plan.config, budget)
        busy = {
            "train_button": gr.update(interactive=False),
            "cancel_button": gr.update(interactive=True),
        }
        state = None
        for state in self._jobs().follow(run_id):
            yield {
                "job": run_id,
                "progress_bar": _bar(progress_fraction(state)),
                "progress": progress_markdown(state),
                "curves": live_curves_figure(state),
                **busy,
            }
        kept = len(state.history) / state.budget.epochs if state is not None else 0.0
        yield {
            "job": None,
            "progress_bar": _bar(kept),  # the share of the epochs the saved run holds
            "progress": progress_markdown(state),
            "curves": live_curves_figure(state),
            "train_button": gr.update(interactive=True),
            "cancel_button": gr.update(interactive=False),
        }

    def train(self, config, train_images, epochs, train_batch_size, learning_rate):
        """The API's training: the job's state as JSON at every change, until it ends."""
        config = _config(config)
        try:
            config = fit_to_data(config)
        except ValueError as error:
            variant = to_query(small_variant(config))
            raise gr.Error(
                f"{error}; a variant that fits: {variant}", print_exception=False
            ) from None
        budget = _budget((train_images, epochs, train_batch_size, learning_rate))
        run_id = self._submit(config, budget)
        state = None
        for state in self._jobs().follow(run_id):
            yield _record(state)
        if state is not None and state.state == "failed":
            raise gr.Error(state.message, print_exception=False)

    def _submit(self, config: DenseNetConfig, budget: Budget) -> str:
        try:
            return self._jobs().submit(config, budget)
        except ValueError as error:
            raise ui_error(error) from None

    def cancel_on_page(self, run_id: str | None):
        if run_id is not None:
            with contextlib.suppress(ValueError):
                self._jobs().cancel(run_id)
        return gr.update(interactive=False)

    def cancel(self, run_id: str) -> dict:
        try:
            return _record(self._jobs().cancel(run_id))
        except ValueError as error:
            raise ui_error(error) from None

    # --- runs --------------------------------------------------------------------------

    def runs(self) -> list[dict]:
        """The saved runs as records (`/runs`)."""
        return [RunRecord.of(run).to_json() for run in saved_runs()]

    def runs_views(self) -> dict:
        """The table, the two scatter plots and the three run menus."""
        records = [RunRecord.of(run) for run in saved_runs()]
        headers, rows = runs_table(records)
        by_params, by_macs = runs_scatter_figures(records, self.shipped)
        choices = [
            (f"{record.run_id} · {short_config(record.config)}", record.run_id)
            for record in records
        ]
        newest = choices[0][1] if choices else None
        second = choices[1][1] if len(choices) > 1 else newest
        return {
            "table": gr.update(value=rows, headers=headers),
            "by_params": by_params,
            "by_macs": by_macs,
            "chosen": gr.update(choices=choices, value=newest),
            "run_a": gr.update(choices=choices, value=second),
            "run_b": gr.update(choices=choices, value=newest),
        }

    def classify_with(self, run_id: str | None) -> dict:
        """Put the run in the Classify menu, choose it, and go to the Classify tab."""
        if not is_run_id(run_id):
            raise gr.Error("Choose a run first.", print_exception=False)
        try:
            card = saved_run(run_id).card
        except ValueError as error:
            raise ui_error(error) from None
        choices = [(title, name) for name, title in MODELS.items()]
        choices.append((f"Run {run_id}", run_id))
        return {
            "model": gr.update(choices=choices, value=run_id),
            "about_model": gr.update(value=describe(card), elem_classes=[]),
            "tabs": gr.Tabs(selected="classify"),
        }

    def compare(self, a: str | None, b: str | None) -> dict:
        """Runs A and B's curves, and their differences."""
        figure, text = None, ""  # nothing to draw (or removed meanwhile)
        if is_run_id(a) and is_run_id(b):
            with contextlib.suppress(ValueError):
                figure, text = compare_runs(saved_run(a), saved_run(b))
        return {"compare_plot": figure, "differences": text}


def _record(state: JobState) -> dict:
    """A job's state as the API returns it."""
    return {
        "run_id": state.run_id,
        "state": state.state,
        "queue_position": state.queue_position,
        "epoch": state.epoch,
        "epochs": state.budget.epochs,
        "step": state.step,
        "steps": state.steps,
        "images_per_second": state.images_per_second,
        "seconds_left": state.seconds_left,
        "history": state.history,
        "message": state.message,
        "figures": state.figures,
    }
