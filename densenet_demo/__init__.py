"""DenseNet Explorer: a configurable DenseNet (Huang et al. 2017), its analytic summary, the
models this project trained, and the Gradio app built on them.

Layers, each importing only those below it (checked by `lint-imports`):
`ui` (Gradio) > `training` > `inference` > `architecture` (the analytic core: no Keras,
TensorFlow or Gradio, except the Keras builder, which imports Keras when it builds).
"""

from .architecture.config import DenseNetConfig
from .architecture.presets import PRESET_INFO, PRESETS
from .architecture.summary import summarize

__all__ = [
    "DenseNetConfig",
    "PRESETS",
    "PRESET_INFO",
    "build_model",
    "load_classifier",
    "summarize",
]


def __getattr__(name: str):
    # Keras, Pillow and NumPy are imported only when a model is built or loaded: the summary
    # and the CLI stay instant.
    if name == "build_model":
        from .architecture.keras_model import build_model

        return build_model
    if name == "load_classifier":
        from .inference.classifier import load_classifier

        return load_classifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
