"""DenseNet Explorer: a configurable DenseNet (Huang et al. 2017), its analytic summary, and
the pieces of the Gradio app built on them."""

from .config import DenseNetConfig
from .presets import PRESET_INFO, PRESETS
from .summary import summarize

__all__ = ["DenseNetConfig", "PRESETS", "PRESET_INFO", "build_model", "summarize"]


def __getattr__(name: str):
    # Keras is imported only when a model is built: the summary and CLI stay instant.
    if name == "build_model":
        from .model import build_model
        return build_model
    raise AttributeError(name)
