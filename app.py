"""DenseNet Explorer: the Gradio app (also the Hugging Face Spaces entry point).

Lays out the page and wires components to handlers in `densenet_demo`; no logic lives here.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from densenet_demo.classify import (  # noqa: E402
    DEFAULT_MODEL, MODELS, ClassifyModels, describe, example_images)
from densenet_demo.controls import (  # noqa: E402
    Blocks, Dropdown, Image, Number, Radio, Slider)
from densenet_demo.config import CLASSIFIER_ACTIVATIONS, STEMS, STYLES  # noqa: E402
from densenet_demo.explore import (  # noqa: E402
    build_with_keras, explore, load_link, load_preset)
from densenet_demo.hosting import (  # noqa: E402
    cache_cleanup, launch_options, override_warnings)
from densenet_demo.model_report import (  # noqa: E402
    FEATURE_REUSE_HOW_TO_READ, accuracy_figure, confusion_figure, feature_reuse_figure,
    headline_markdown, per_class_figure, training_curves_figure)
from densenet_demo.model_tab import ModelTab  # noqa: E402
from densenet_demo.presets import PRESETS  # noqa: E402
from densenet_demo.report import preset_table  # noqa: E402
from densenet_demo.summary import DEFAULT_BATCH_SIZE  # noqa: E402

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

INTRO = """# DenseNet Explorer
Change any hyperparameter of a DenseNet ([Huang et al., CVPR 2017](https://arxiv.org/abs/1608.06993))
and see its size, compute, memory and channel growth at once — computed analytically, then
checked against a real Keras build on demand."""


EXAMPLES = Path(__file__).resolve().parent / "examples" / "fashion"
WEIGHTS_DIR = os.environ.get("DENSENET_WEIGHTS_DIR") or None  # None: the shipped weights/


def build_demo(models: ClassifyModels) -> gr.Blocks:
    # Before serving: checked, converted (in-process: nothing to stall yet), warmed up.
    service, unavailable = models.load(DEFAULT_MODEL, isolated=False)
    # Uploads and results are deleted an hour after they were written (DENSENET_CACHE_TTL_S).
    with Blocks(title="DenseNet Explorer", delete_cache=cache_cleanup()) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Explore"):
            with gr.Row():
                with gr.Column(scale=1, min_width=300):
                    preset = Dropdown(list(PRESETS), value="densenet121", label="Preset")
                    with gr.Row():
                        height = Number(224, label="Input height", precision=0)
                        width = Number(224, label="Input width", precision=0)
                        channels = Number(3, label="Input channels", precision=0)
                    num_classes = Number(1000, label="Classes", precision=0)
                    growth_rate = Slider(1, 64, value=32, step=1, label="Growth rate k",
                                            info="channels each dense layer adds")
                    block_layers = gr.Textbox("6, 12, 24, 16", label="Layers per dense block",
                                              info="1 to 6 blocks, comma-separated")
                    bottleneck = gr.Checkbox(True, label="Bottleneck (1×1 conv before the 3×3: -B)")
                    bn_size = Slider(1, 8, value=4, step=1, label="Bottleneck width (× k)")
                    compression = Slider(0.05, 1.0, value=0.5, step=0.05,
                                            label="Compression θ (transitions keep θ·m "
                                                  "channels: -C)")
                    init_features = Number(64, label="Stem output channels", precision=0)
                    stem = Radio(list(STEMS), value="imagenet", label="Stem",
                                 info="imagenet: 7×7/2 conv + 3×3/2 max-pool; cifar: 3×3 conv; "
                                      "article: 7×7/2 conv, no pool")
                    style = Radio(list(STYLES), value="paper", label="Layer style",
                                  info="article: the seed article's simplified layers")
                    transition_features = Number(
                        0, label="Fixed transition width (0 = use θ)", precision=0)
                    dropout_rate = Slider(0.0, 0.9, value=0.0, step=0.05,
                                             label="Dropout after each conv")
                    classifier_activation = Dropdown(list(CLASSIFIER_ACTIVATIONS),
                                                     value="softmax",
                                                     label="Classifier activation")
                    batch_size = Number(DEFAULT_BATCH_SIZE, precision=0,
                                        label="Batch size (for the memory estimate)")
                with gr.Column(scale=2):
                    headline = gr.Markdown()
                    channel_chart = gr.Plot(label="Channel growth")
                    stage_chart = gr.Plot(label="Cost per stage")
                    share_link = gr.Textbox(label="Link to this configuration (append to the "
                                                  "page address)", buttons=["copy"])
            with gr.Accordion("How DenseNet works", open=False):
                gr.Markdown(HOW_IT_WORKS)
            with gr.Accordion("All presets at a glance", open=False):
                gr.Markdown(preset_table())
            with gr.Accordion("Layer table", open=False):
                layer_table = gr.Dataframe(label="Every Keras layer", interactive=False,
                                           max_height=500)
            with gr.Accordion("Keras code for this configuration", open=False):
                code = gr.Code(language="python", label="Rebuild it with this package")
            with gr.Accordion("Build with Keras", open=False):
                build_button = gr.Button("Build the real Keras model and compare",
                                         variant="primary")
                keras_summary = gr.Code(label="model.summary()", language=None)

        with gr.Tab("Classify"):
            about_model = gr.Markdown(describe(service.classifier.card) if service
                                      else unavailable)
            with gr.Row():
                with gr.Column():
                    model = Dropdown([(title, name) for name, title in MODELS.items()],
                                     value=DEFAULT_MODEL, label="Model",
                                     info="ImageNet models load on first use (about a "
                                          "minute); their weights are downloaded once or "
                                          "read from DENSENET_WEIGHTS_DIR")
                    # image_mode=None: handed on as uploaded; Gradio's default RGB
                    # conversion would drop transparency and clip 16-bit greyscale.
                    upload = Image(type="filepath", image_mode=None, label="Your picture",
                                   height=240, sources=["upload", "webcam", "clipboard"])
                    top_k = Slider(1, 10, value=5, step=1, label="Classes to show (k)")
                    classify_button = gr.Button("Classify", variant="primary")
                with gr.Column():
                    top_classes = gr.Label(num_top_classes=10, label="Top-k classes")
                    model_view = gr.Image(label="What the model sees (enlarged if small)",
                                          interactive=False, height=240)
                    timing = gr.Markdown()
            with gr.Accordion("Why this class? Grad-CAM", open=False):
                opacity = Slider(0.0, 1.0, value=0.5, step=0.05, label="Heat map opacity")
                explain_button = gr.Button("Show what drove the top class")
                explain_caption = gr.Markdown()
                with gr.Row():
                    heat_on_upload = gr.Image(label="On your picture", interactive=False,
                                              height=280)
                    heat_on_input = gr.Image(label="On what the model sees", interactive=False,
                                             height=280)
            gr.Examples(example_images(EXAMPLES), inputs=upload,
                        label="Real Fashion-MNIST test images: click one",
                        examples_per_page=20)
            classify_inputs, classify_outputs = [upload, top_k, model], [top_classes,
                                                                        model_view, timing]
            # Requests run side by side (up to 16) and meet in one forward pass per model.
            classify_button.click(models.classify, inputs=classify_inputs,
                                  outputs=classify_outputs, api_name="predict",
                                  concurrency_limit=16, concurrency_id="classify")
            gr.on([upload.change, top_k.release], models.classify_on_page,
                  inputs=classify_inputs, outputs=classify_outputs, api_visibility="private",
                  concurrency_limit=16, concurrency_id="classify")
            model.input(models.describe, inputs=model, outputs=about_model,
                        api_name="choose_model", concurrency_limit=16,
                        concurrency_id="classify").success(
                models.classify_on_page, inputs=classify_inputs, outputs=classify_outputs,
                api_visibility="private", concurrency_limit=16, concurrency_id="classify")

            # Gradients need the Keras model (~10x a LiteRT pass): two at a time at most.
            explain_button.click(models.explain, inputs=[upload, model, opacity],
                                 outputs=[heat_on_upload, heat_on_input, explain_caption],
                                 api_name="explain", concurrency_limit=2,
                                 concurrency_id="explain")

        with gr.Tab("Model"):
            if service is None:
                gr.Markdown(unavailable)
            else:
                model_tab = ModelTab(service.classifier.model, service.classifier.card,
                                     service.classifier.weights_path.parent)
                gr.Markdown(headline_markdown(model_tab.card))
                with gr.Row():
                    gr.Plot(accuracy_figure(model_tab.card), label="Beside published results")
                    gr.Plot(per_class_figure(model_tab.card), label="Per class")
                gr.Plot(confusion_figure(model_tab.card), label="Confusion matrix")
                if model_tab.mistakes is None:
                    gr.Markdown(model_tab.mistakes_unavailable)
                else:
                    worst_pair = model_tab.worst_pair()
                    first_images, first_count = model_tab.misclassified(*worst_pair)
                    gr.Markdown("**See the mistakes of one cell**: pick its true class (row) "
                                "and predicted class (column).")
                    with gr.Row():
                        true_class = Dropdown(list(model_tab.class_names),
                                              value=worst_pair[0], label="True class")
                        predicted_class = Dropdown(list(model_tab.class_names),
                                                   value=worst_pair[1], label="Predicted class")
                    mistakes_count = gr.Markdown(first_count)
                    mistakes_gallery = gr.Gallery(first_images, label="Misclassified test "
                                                  "images (index in the test set)", columns=8,
                                                  height=420, format="png", interactive=False)
                    gr.on([true_class.input, predicted_class.input], model_tab.misclassified,
                          inputs=[true_class, predicted_class],
                          outputs=[mistakes_gallery, mistakes_count], api_name="misclassified")
                gr.Plot(training_curves_figure(model_tab.card), label="Training curves")
                gr.Markdown(FEATURE_REUSE_HOW_TO_READ)
                gr.Plot(feature_reuse_figure(model_tab.reuse),
                        label="Feature reuse in the trained model (Huang et al., Figure 5)")

        config_inputs = [preset, height, width, channels, num_classes, growth_rate,
                         block_layers, bottleneck, bn_size, compression, init_features, stem,
                         style, transition_features, dropout_rate, classifier_activation]
        views = [headline, channel_chart, stage_chart, layer_table, code, share_link]

        # Explore updates are pure arithmetic (~10 ms): served directly, not through the queue.
        gr.on([control.input for control in config_inputs[1:] + [batch_size]], explore,
              inputs=config_inputs + [batch_size], outputs=views, api_name="explore",
              queue=False)
        preset.input(load_preset, inputs=[preset, batch_size], outputs=config_inputs + views,
                     api_name="load_preset", queue=False)
        demo.load(load_link, inputs=None, outputs=config_inputs + views, api_name="load_link",
                  queue=False)
        # One build at a time on its own id: builds queue behind each other, never in the
        # prediction slots ("classify"), so predictions keep flowing while models build.
        build_button.click(build_with_keras, inputs=config_inputs, outputs=keras_summary,
                           api_name="build_keras", concurrency_limit=1,
                           concurrency_id="keras")
    # Bounded: twice the 32 concurrent users benchmarks/load.py serves with no error; past 64
    # waiting events a caller hears "queue full" at once, not minutes later. Events without
    # their own limit run one at a time.
    demo.queue(max_size=64, default_concurrency_limit=1)
    return demo


# The default model is loaded at start-up, the ImageNet ones when first chosen.
demo = build_demo(ClassifyModels(WEIGHTS_DIR))

if __name__ == "__main__":
    for warning in override_warnings():
        print(f"Warning: {warning}", file=sys.stderr, flush=True)
    demo.launch(**launch_options())
