"""The page: the four tabs composed, and the server launched (`app.py`, on Hugging Face Spaces,
and `densenet-explorer serve` both start it here).

Each tab holds its own layout, page events and handlers, and talks to another only through
what this page passes it; the public API over those handlers is the table in `endpoints`; every
serving setting is in `hosting`.
"""

from __future__ import annotations

import os
import sys

import gradio as gr

from ..dependencies import override_warnings
from ..inference.imagenet import FOLDER_VARIABLE
from ..inference.service import DEFAULT_MODEL, ModelRegistry
from ..training.budget import training_limits
from ..training.jobs import TrainingJobs
from . import classify_tab, explore_tab, gradio_fixes, model_tab, train_tab
from .components import Blocks
from .endpoints import api_table
from .hosting import QUEUE_OPTIONS, cache_cleanup, launch_options
from .registration import register

INTRO = """# DenseNet Explorer
Change any hyperparameter of a DenseNet ([Huang et al., CVPR 2017](https://arxiv.org/abs/1608.06993))
and see its size, compute, memory and channel growth at once — computed analytically, then
checked against a real Keras build on demand. Train it on Fashion-MNIST, compare runs, and
classify your own pictures."""


def build_demo(models: ModelRegistry, jobs: TrainingJobs | None = None) -> gr.Blocks:
    """The page. The default model is loaded here, before serving: checked, converted
    (in-process: nothing to stall yet) and warmed up; the ImageNet ones when first chosen.
    Without `jobs` the Train tab is hidden and its API refuses."""
    gradio_fixes.apply()
    default, unavailable = models.load(DEFAULT_MODEL, isolated=False)
    # Uploads and results are deleted an hour after they were written (DENSENET_CACHE_TTL_S).
    with Blocks(title="DenseNet Explorer", delete_cache=cache_cleanup()) as demo:
        classify = classify_tab.ClassifyHandlers(models)
        train = train_tab.TrainHandlers(jobs, default.classifier.card if default else None)
        model = model_tab.handlers(default)
        # The API first, so that its endpoints hold their names before any page event's.
        register(api_table(classify, model, train))
        gr.Markdown(INTRO)
        with gr.Tabs() as tabs:
            with gr.Tab("Explore", id="explore"):
                explore = explore_tab.render(demo)
            with gr.Tab("Train", id="train", visible=jobs is not None):
                train_view = train_tab.render(demo, train, explore)
            with gr.Tab("Classify", id="classify"):
                classify_view = classify_tab.render(classify, default, unavailable)
            with gr.Tab("Model", id="model"):
                model_tab.render(model, unavailable)
        train_tab.wire_classify(train_view, classify_view, tabs)
    demo.queue(**QUEUE_OPTIONS)
    return demo


def serve() -> None:
    """Build the page over the weights folder (`DENSENET_WEIGHTS_DIR`, else the shipped one)
    and serve it until interrupted, with the settings of `hosting`."""
    for warning in override_warnings():
        print(f"Warning: {warning}", file=sys.stderr, flush=True)
    options = launch_options()
    if options["mcp_server"]:
        gradio_fixes.apply_to_mcp()
    jobs = TrainingJobs() if training_limits().enabled else None
    build_demo(ModelRegistry(os.environ.get(FOLDER_VARIABLE) or None), jobs).launch(**options)
