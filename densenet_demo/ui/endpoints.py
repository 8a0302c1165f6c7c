"""The public API, declared once: every endpoint's name, handler, typed inputs, outputs and
description (`api_table`), over the handlers the tabs hand the page. `registration` registers
them; the page's own events are private.
"""

from __future__ import annotations

import functools

import gradio as gr

from ..architecture.controls import CONTROLS, DEFAULT_PRESET, MEMORY_CONTROLS, Control
from ..architecture.controls import preset_controls as _preset_controls
from ..architecture.presets import PRESETS
from ..architecture.summary import DEFAULT_BATCH_SIZE
from ..architecture.training_memory import DEFAULT_MEMORY_GIB, DEFAULT_OPTIMIZER, OPTIMIZER_NAMES
from ..inference.service import MODELS
from ..training.budget import BUDGET_CONTROLS
from ..training.data import TRAINING_IMAGES
from ..training.run_record import RUN_RECORD_FIELDS
from . import agent_tools, explore_tab
from .classify_tab import INPUTS as CLASSIFY_INPUTS
from .components import component_for
from .hosting import (
    BUILD_CONCURRENCY,
    CLASSIFY_CONCURRENCY,
    EXPLAIN_CONCURRENCY,
    EXPORT_CONCURRENCY,
    TRAIN_CONCURRENCY,
)
from .registration import Endpoint, Input, Output

# --- the JSON the endpoints take and give ------------------------------------------------

_INTEGER, _NUMBER, _STRING = {"type": "integer"}, {"type": "number"}, {"type": "string"}
_OBJECT, _LIST = {"type": "object"}, {"type": "array"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


CONFIG = {
    "anyOf": [
        {"type": "object", "description": "DenseNetConfig fields (its to_dict())"},
        {"type": "string", "description": "a share link, its query string, or that JSON"},
    ],
}
SUMMARY = {
    "type": "object",
    "properties": {
        "config": {**_OBJECT, "description": "every DenseNetConfig field"},
        "depth": _INTEGER,
        "total_params": _INTEGER,
        "trainable_params": _INTEGER,
        "non_trainable_params": _INTEGER,
        "macs": _INTEGER,
        "flops": _INTEGER,
        "memory": {**_OBJECT, "description": "activation bytes"},
        "training_memory": {**_OBJECT, "description": "bytes; the largest batch that fits"},
        "figures": {"type": "array", "items": _OBJECT},
        "stages": {"type": "array", "items": _OBJECT},
        "keras_build_refusal": _nullable(_STRING),
        "link_query": _STRING,
    },
}
JOB = {
    "type": "object",
    "properties": {
        "run_id": _STRING,
        "state": _STRING,
        "queue_position": _INTEGER,
        "epoch": _INTEGER,
        "epochs": _INTEGER,
        "step": _INTEGER,
        "steps": _INTEGER,
        "images_per_second": _nullable(_NUMBER),
        "seconds_left": _nullable(_NUMBER),
        "history": {"type": "array", "items": _OBJECT},
        "message": _STRING,
        "figures": _OBJECT,
    },
}
RUNS = {"type": "array", "items": {**_OBJECT, "description": "a saved run, as /runs lists it"}}
MODEL = {
    "type": "string",
    "description": f"{', '.join(MODELS)} or the run_id of a saved run (/runs)",
}


# --- the table ---------------------------------------------------------------------------

EXPLORE_DEFAULTS = {
    **_preset_controls(DEFAULT_PRESET),
    **{control.name: control.default for control in MEMORY_CONTROLS},
}
CONTROL_INPUTS = tuple(
    Input(control.name, functools.partial(component_for, control, EXPLORE_DEFAULTS[control.name]))
    for control in CONTROLS
)
MEMORY_INPUTS = tuple(
    Input(control.name, functools.partial(component_for, control, control.default))
    for control in MEMORY_CONTROLS
)
VIEW_OUTPUTS = (
    Output("headline", gr.Markdown),
    Output("channel_growth", gr.Plot),
    Output("stage_cost", gr.Plot),
    Output("layer_table", gr.Dataframe),
    Output("code", functools.partial(gr.Code, language="python")),
    Output("link", gr.Textbox),
)
CONTROLS_AND_VIEWS = (
    *(Output(i.name, i.like) for i in CONTROL_INPUTS),
    *VIEW_OUTPUTS,
)
COMPARED = (*VIEW_OUTPUTS[:3], Output("differences", gr.Markdown))
KERAS_SUMMARY = Output("keras_summary", gr.Code)
LOCAL = {"queue": False}  # milliseconds of arithmetic: served directly
BUILD_DESCRIPTION = (
    "Build the real Keras model of a configuration (values as for /explore) and return "
    "model.summary() with a check that Keras' parameter counts AGREE with the analytic "
    "summary's. A model above the build limits is refused, with the reason."
)
# /summary is written for programs and agents: plain JSON in, its docstring their guide.
SUMMARY_INPUTS = (
    Input(
        "preset", label="preset", schema={**_STRING, "enum": list(PRESETS)}, default=DEFAULT_PRESET
    ),
    Input("overrides", label="overrides", schema=_nullable(_OBJECT), default=None),
    Input("batch_size", label="batch_size", schema=_INTEGER, default=DEFAULT_BATCH_SIZE),
    Input(
        "optimizer",
        label="optimizer",
        schema={**_STRING, "enum": list(OPTIMIZER_NAMES)},
        default=DEFAULT_OPTIMIZER,
    ),
    Input("memory_gib", label="memory_gib", schema=_NUMBER, default=DEFAULT_MEMORY_GIB),
)


def api_table(classify, model, train) -> list[Endpoint]:
    """Every public endpoint, over the tabs' handlers: `classify` (the Classify tab's),
    `model` (the Model tab's, None without a served model; /misclassified only with its
    mistakes) and `train` (the Train tab's)."""
    explore = explore_tab
    endpoints = [
        Endpoint(
            "explore",
            explore.explore,
            (*CONTROL_INPUTS, *MEMORY_INPUTS),
            VIEW_OUTPUTS,
            "The analytic summary of one DenseNet configuration: headline figures (depth, "
            "parameters, MACs, training memory for the batch size and optimizer, the largest "
            "batch that fits in memory_gib GiB), channel growth and cost-per-stage charts, the "
            "layer table, Python code that rebuilds it and a link that reopens it. `preset` is "
            "only a label: the architecture is what the other values say (call /load_preset "
            "for a preset's values). Every value is checked; a refused one is named in the "
            "error.",
            LOCAL,
        ),
        Endpoint(
            "compare",
            explore.compare,
            (
                Input("config_a", label="Configuration A", schema=CONFIG),
                Input("config_b", label="Configuration B", schema=CONFIG),
                *MEMORY_INPUTS,
            ),
            COMPARED,
            "Two DenseNet configurations side by side, as the page shows them with A pinned: "
            "headline figures of A and B with B − A and B / A, the channel growth of both (A "
            "dashed), cost per stage of both (A hatched) and the config fields that differ. "
            "Each configuration is a JSON object of DenseNetConfig fields (to_dict) or a share "
            "link (or its query string); the memory estimate's values are as for /explore. A "
            "refused value is named in the error.",
            LOCAL,
        ),
        Endpoint(
            "load_preset",
            explore.load_preset,
            (Input("name", CONTROL_INPUTS[0].like), *MEMORY_INPUTS),
            CONTROLS_AND_VIEWS,
            "A preset's control values (in /explore's order), followed by its summary views "
            "as /explore returns them.",
            LOCAL,
        ),
        Endpoint(
            "load_link",
            explore.load_link,
            (),
            CONTROLS_AND_VIEWS,
            "The control values and summary views of the page address's query string (a "
            "shared link); without one, densenet121's.",
            LOCAL,
        ),
        Endpoint(
            "build_keras",
            explore.build_with_keras,
            CONTROL_INPUTS,
            (KERAS_SUMMARY,),
            BUILD_DESCRIPTION,
            BUILD_CONCURRENCY,
        ),
        Endpoint(
            "export_keras",
            explore.export_keras,
            CONTROL_INPUTS,
            (KERAS_SUMMARY, Output("keras_file", gr.DownloadButton)),
            BUILD_DESCRIPTION + " Also returns the built, untrained model as a .keras file "
            "(keras.saving.load_model and Netron open it).",
            BUILD_CONCURRENCY,
        ),
    ]
    for handler, output, what in (
        (explore.export_layer_table, "csv_file", "the layer table as CSV (one row per layer)"),
        (explore.export_config, "json_file", "the configuration as JSON (DenseNetConfig)"),
        (explore.export_code, "code_file", "the Python code that rebuilds it, as a .py file"),
    ):
        endpoints.append(
            Endpoint(
                handler.__name__,
                handler,
                CONTROL_INPUTS,
                (Output(output, gr.DownloadButton),),
                f"A file of one configuration (values as for /build_keras): {what}.",
                EXPORT_CONCURRENCY,
            )
        )
    picture = Input("image", CLASSIFY_INPUTS["picture"])
    model_menu = Input("model", CLASSIFY_INPUTS["model"], schema=MODEL)
    endpoints += [
        Endpoint(
            "predict",
            classify.classify,
            (picture, Input("top_k", CLASSIFY_INPUTS["top_k"]), model_menu),
            (
                Output("top_classes", functools.partial(gr.Label, num_top_classes=10)),
                Output("model_input", gr.Image),
                Output("about", gr.Markdown),
            ),
            "Classify one picture (a file, or a base64 data: URL) with a model: 'fashion' "
            "(this project's Fashion-MNIST DenseNet, the default) or 'densenet121', "
            "'densenet169', 'densenet201' (Keras' ImageNet weights, loaded on first use), or "
            "the id of a run the Train tab saved (/runs). Returns the top k classes with their "
            "probabilities, the picture the model saw, and a line with the server time, after "
            "a sentence saying so when the picture does not look like what the model knows.",
            CLASSIFY_CONCURRENCY,
        ),
        Endpoint(
            "choose_model",
            classify.describe,
            (model_menu,),
            (Output("about_model", gr.Markdown),),
            "Load a model (if not loaded yet) and return what it is and what a picture becomes "
            "for it, in one paragraph; a model that cannot be loaded is refused in one "
            "sentence saying why.",
            CLASSIFY_CONCURRENCY,
        ),
        Endpoint(
            "explain",
            classify.explain,
            (picture, model_menu, Input("opacity", CLASSIFY_INPUTS["opacity"])),
            (
                Output("on_picture", gr.Image),
                Output("on_model_input", gr.Image),
                Output("caption", gr.Markdown),
            ),
            "Grad-CAM for the model's top class: the picture and the model's input with a "
            "heat map of the pixels that raised that class's score (opacity 0 to 1), and a "
            "caption naming the class.",
            EXPLAIN_CONCURRENCY,
        ),
    ]
    if model is not None and model.mistakes is not None:
        endpoints.append(
            Endpoint(
                "misclassified",
                model.misclassified,
                (
                    Input("true_class", functools.partial(model.class_menu, "true")),
                    Input("predicted_class", functools.partial(model.class_menu, "predicted")),
                ),
                (
                    Output("images", functools.partial(gr.Gallery, format="png")),
                    Output("how_many", gr.Markdown),
                ),
                "The shipped model's misclassified test images of one confusion matrix cell, "
                "by true class and predicted class (names as in the model's class list), at "
                "most 100, with their index in the test set, and how many there are.",
            )
        )
    endpoints.append(
        Endpoint(
            "summary",
            agent_tools.summary,
            SUMMARY_INPUTS,
            (Output("summary", schema=SUMMARY),),
            None,
        )
    )
    job = (Output("job", schema=JOB),)
    endpoints += [
        Endpoint(
            "train",
            train.train,
            (
                Input("config", label="config", schema=CONFIG),
                *(
                    Input(c.name, label=c.name, schema=_budget_schema(c), default=c.default)
                    for c in BUDGET_CONTROLS
                ),
            ),
            job,
            "Train a DenseNet on Fashion-MNIST in the server's worker process and stream its "
            "progress. `config`: a JSON object of DenseNetConfig fields or a share link's "
            "query string (its input and classes become Fashion-MNIST's 28x28x1 and 10); then "
            f"the budget: train_images (1,000 to {TRAINING_IMAGES:,}), epochs (1 to 100), "
            "train_batch_size (8 to 512), learning_rate (peak; 0.00001 to 2). Each update is "
            "the job's state (state, queue_position, epoch, step, images_per_second, "
            "seconds_left, history, message); the last has state done or cancelled with "
            "run_id and figures (validation and test accuracy), or failed with the reason. A "
            "job over the server's limits is refused before it starts, in one sentence.",
            TRAIN_CONCURRENCY,
        ),
        Endpoint(
            "cancel_training",
            train.cancel,
            (Input("run_id", label="run_id", schema=_STRING),),
            job,
            "Stop a training job (its finished epochs are tested and kept as a run) or take a "
            "waiting one off the queue; returns its state.",
            LOCAL,
        ),
        Endpoint(
            "runs",
            train.runs,
            (),
            (Output("runs", schema=RUNS),),
            f"The saved runs, newest first, each with {', '.join(RUN_RECORD_FIELDS)}. A run_id "
            "is a model for /predict.",
            LOCAL,
        ),
    ]
    return endpoints


def _budget_schema(control: Control) -> dict:
    """A training budget value as the API takes it: any number the budget's check accepts,
    not only the page's choices."""
    return _NUMBER if control.name == "learning_rate" else _INTEGER
