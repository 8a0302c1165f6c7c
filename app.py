"""DenseNet Explorer: the Gradio app (also the Hugging Face Spaces entry point).

Composes the tabs of `densenet_demo.ui` and launches; each tab holds its own layout, events and
handlers, and every serving setting is in `densenet_demo.ui.hosting`.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from densenet_demo.inference.service import DEFAULT_MODEL, ModelRegistry
from densenet_demo.ui import classify_tab, explore_tab, model_tab
from densenet_demo.ui.components import Blocks
from densenet_demo.ui.hosting import QUEUE_OPTIONS, cache_cleanup, launch_options, override_warnings

INTRO = """# DenseNet Explorer
Change any hyperparameter of a DenseNet ([Huang et al., CVPR 2017](https://arxiv.org/abs/1608.06993))
and see its size, compute, memory and channel growth at once — computed analytically, then
checked against a real Keras build on demand."""


def build_demo(models: ModelRegistry) -> gr.Blocks:
    """The page. The default model is loaded here, before serving: checked, converted
    (in-process: nothing to stall yet) and warmed up; the ImageNet ones when first chosen."""
    default, unavailable = models.load(DEFAULT_MODEL, isolated=False)
    # Uploads and results are deleted an hour after they were written (DENSENET_CACHE_TTL_S).
    with Blocks(title="DenseNet Explorer", delete_cache=cache_cleanup()) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Explore"):
            explore_tab.render(demo)
        with gr.Tab("Classify"):
            classify_tab.render(models, default, unavailable)
        with gr.Tab("Model"):
            model_tab.render(default, unavailable)
    demo.queue(**QUEUE_OPTIONS)
    return demo


if __name__ == "__main__":
    for warning in override_warnings():
        print(f"Warning: {warning}", file=sys.stderr, flush=True)
    # DENSENET_WEIGHTS_DIR: a folder of model cards and ImageNet weight files; else weights/.
    build_demo(ModelRegistry(os.environ.get("DENSENET_WEIGHTS_DIR") or None)).launch(
        **launch_options()
    )
