"""DenseNet Explorer: the Gradio app (also the Hugging Face Spaces entry point).

Lays out the page and wires components to handlers in `densenet_demo`; no logic lives here.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from densenet_demo.classify import ClassifyService, example_images  # noqa: E402
from densenet_demo.controls import Image, Number, Slider  # noqa: E402
from densenet_demo.config import CLASSIFIER_ACTIVATIONS, STEMS, STYLES  # noqa: E402
from densenet_demo.explore import (  # noqa: E402
    build_with_keras, explore, load_link, load_preset)
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


def build_demo(service: ClassifyService | None, unavailable: str = "") -> gr.Blocks:
    with gr.Blocks(title="DenseNet Explorer") as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Explore"):
            with gr.Row():
                with gr.Column(scale=1, min_width=300):
                    preset = gr.Dropdown(list(PRESETS), value="densenet121", label="Preset")
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
                    stem = gr.Radio(list(STEMS), value="imagenet", label="Stem",
                                    info="imagenet: 7×7/2 conv + 3×3/2 max-pool; cifar: 3×3 conv; "
                                         "article: 7×7/2 conv, no pool")
                    style = gr.Radio(list(STYLES), value="paper", label="Layer style",
                                     info="article: the seed article's simplified layers")
                    transition_features = Number(
                        0, label="Fixed transition width (0 = use θ)", precision=0)
                    dropout_rate = Slider(0.0, 0.9, value=0.0, step=0.05,
                                             label="Dropout after each conv")
                    classifier_activation = gr.Dropdown(list(CLASSIFIER_ACTIVATIONS),
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
            if service is None:
                gr.Markdown(unavailable)
            else:
                card = service.classifier.card
                gr.Markdown(
                    f"Upload a photo of a clothing item, shoe or bag. The model is this "
                    f"project's DenseNet ({card['params']:,} parameters) trained on "
                    f"Fashion-MNIST: {card['test_accuracy']:.2%} accuracy on its 10,000 test "
                    f"images. Your picture is turned into what it was trained on: grayscale, "
                    f"light on black, cropped and centred, 28×28.")
                with gr.Row():
                    with gr.Column():
                        upload = Image(type="filepath", label="Your picture", height=240,
                                          sources=["upload", "webcam", "clipboard"])
                        top_k = Slider(1, 10, value=5, step=1, label="Classes to show (k)")
                        classify_button = gr.Button("Classify", variant="primary")
                    with gr.Column():
                        top_classes = gr.Label(num_top_classes=10, label="Top-k classes")
                        model_view = gr.Image(label="What the model sees (28×28, enlarged)",
                                              interactive=False, height=240)
                        timing = gr.Markdown()
                gr.Examples(example_images(EXAMPLES), inputs=upload,
                            label="Real Fashion-MNIST test images: click one",
                            examples_per_page=20)
                # Requests run side by side (up to 16) and meet in one forward pass.
                classify_button.click(service.classify, inputs=[upload, top_k],
                                      outputs=[top_classes, model_view, timing],
                                      api_name="predict", concurrency_limit=16,
                                      concurrency_id="classify")
                gr.on([upload.change, top_k.release], service.classify_on_page,
                      inputs=[upload, top_k], outputs=[top_classes, model_view, timing],
                      api_visibility="private", concurrency_limit=16,
                      concurrency_id="classify")

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
        build_button.click(build_with_keras, inputs=config_inputs, outputs=keras_summary,
                           api_name="build_keras", concurrency_limit=1,
                           concurrency_id="keras")
    return demo


# Loaded once at start-up: checksum checked against the card, compiled and warmed up.
demo = build_demo(*ClassifyService.load(
    "fashion", os.environ.get("DENSENET_WEIGHTS_DIR") or None))

if __name__ == "__main__":
    # Loopback unless told otherwise (Spaces sets GRADIO_SERVER_NAME=0.0.0.0).
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
