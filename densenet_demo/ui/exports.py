"""The files the page hands out: the Explore tab's layer table (CSV), configuration (JSON),
Keras code (.py) and built, untrained model (.keras); the Train tab's runs (.zip).

The analytic core writes the text; this module only puts it in files. Each file is written
atomically inside Gradio's cache folder, which Gradio serves as it is (no copy), and which its
cache cleanup empties with the uploads and results (`hosting.cache_cleanup`) — as long as the
handler returns the path as a plain value: a `gr.update(value=...)` would register it with a
copy of the component that the cleanup never looks at.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import secrets
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from gradio.utils import get_upload_folder

from ..architecture.config import DenseNetConfig
from ..architecture.report import layer_table_csv
from ..architecture.share import config_code, config_json, file_stem
from ..architecture.summary import summarize
from ..files import write_atomically, writing_atomically
from ..inference.card import card_path
from ..inference.runs import Run

if TYPE_CHECKING:
    import keras


# Built models are large (up to 200 MB at the build limits) and one build follows another:
# beyond these newest few, older ones go at once rather than after the cache's hour.
MAX_KEPT_MODELS = 8


def _folder() -> Path:
    return Path(get_upload_folder()) / "exports"


def _text_file(name: str, text: str) -> str:
    return _file(name, text.encode())


def _file(name: str, data: bytes) -> str:
    """`data` in a file called `name`, in a folder named by both: the same export asked for
    twice is one file, rewritten (which also restarts its time to live)."""
    digest = hashlib.sha256(name.encode() + b"\0" + data).hexdigest()[:24]
    path = _folder() / digest / name
    write_atomically(path, data)
    return str(path)


def layer_table_file(config: DenseNetConfig) -> str:
    """The layer table as `<name>-layers.csv`."""
    return _text_file(f"{file_stem(config)}-layers.csv", layer_table_csv(summarize(config)))


def config_file(config: DenseNetConfig) -> str:
    """The configuration as `<name>.json` (`DenseNetConfig.from_dict` reads it back)."""
    return _text_file(f"{file_stem(config)}.json", config_json(config))


def code_file(config: DenseNetConfig) -> str:
    """The Python code that rebuilds the configuration, as `<name>.py`."""
    return _text_file(f"{file_stem(config)}.py", config_code(config))


def run_file(run: Run) -> str:
    """A saved run as `<run id>.zip`: its model card and every file the card names (weights,
    converted model, misclassified test images), as `load_classifier` reads a run folder."""
    card = run.card
    card_file = card_path(run.folder, run.run_id).name
    names = [card_file, card.weights_file, card.litert_file, card.mistakes_file]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in filter(None, names):
            # A fixed date: the same run zips to the same bytes (and the same file).
            entry = zipfile.ZipInfo(f"{run.run_id}/{name}", date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, (run.folder / name).read_bytes())
    return _file(f"{run.run_id}.zip", buffer.getvalue())


def model_file(model: keras.Model, config: DenseNetConfig) -> str:
    """The built model in Keras' own format, `<name>.keras` (keras.saving.load_model and
    Netron open it), in a folder of its own: no two saves are the same bytes. Only the newest
    `MAX_KEPT_MODELS` are kept."""
    path = _folder() / secrets.token_hex(12) / f"{file_stem(config)}.keras"
    with writing_atomically(path) as temporary:
        model.save(temporary)
    for old in _saved_models()[:-MAX_KEPT_MODELS]:
        old.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            old.parent.rmdir()
    return str(path)


def _saved_models() -> list[Path]:
    """The saved models, oldest first; not one being written (its temporary name starts with
    a dot), nor one the cache cleanup deletes meanwhile."""
    found = []
    for path in _folder().glob("*/[!.]*.keras"):
        with contextlib.suppress(FileNotFoundError):
            found.append((path.stat().st_mtime, path))
    return [path for _, path in sorted(found)]
