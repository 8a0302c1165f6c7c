"""DenseNet Explorer: `python app.py` serves the page (also the Hugging Face Spaces entry point).

The page itself is `densenet_demo/ui/page.py`; `densenet-explorer serve` starts the same.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

if __name__ == "__main__":
    # Imported here, not above: each training worker (a spawned process) runs this file's top
    # level again, and would otherwise import Gradio and the whole page for nothing.
    from densenet_demo.ui.page import serve

    serve()
