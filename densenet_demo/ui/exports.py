"""The files the page hands out: the Explore tab's layer table (CSV), configuration (JSON),
Keras code (.py) and built, untrained model (.keras); the Train tab's runs (.zip).

The analytic core writes the text; this module only puts it in files. Each file is written
atomically inside Gradio's cache folder, which Gradio serves as it is (no copy), and which its
cache cleanup empties with the uploads and results (`hosting.cache_cleanup`) — as long as the
handler returns the path as a plain value: a `gr.update(value=...)` would register it with a
copy of the component that the cleanup never looks at.

Besides that hour, the files together stay under a byte cap (`hosting.export_cache_bytes`,
DENSENET_EXPORT_CACHE_MB): each distinct configuration is a new file, and a caller asking for
many would otherwise fill the disk within the hour. Past the cap the least recently used files
go first (a file asked for again is used again), never the one just handed out.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import secrets
import threading
import zipfile
from collections import OrderedDict
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
from .hosting import export_cache_bytes

if TYPE_CHECKING:
    import keras


# Built models are large (up to 200 MB at the build limits) and one build follows another:
# beyond these newest few, older ones go at once rather than after the cache's hour.
MAX_KEPT_MODELS = 8
BLOCK_BYTES = 4096  # a file takes whole blocks on disk, and its folder one more


class _Cache:
    """The files of one export folder, least recently used first, with the bytes they take
    on disk. Files the cache cleanup deleted meanwhile are still counted until their turn to
    go comes: the oldest first, as that cleanup deletes them, so the count is never short."""

    def __init__(self, folder: Path) -> None:
        self.files: OrderedDict[Path, int] = OrderedDict()
        self.total = 0
        self.models = 0
        found = []  # what an earlier server left (Gradio's cache outlives it)
        for path in folder.glob("*/[!.]*"):  # not a temporary file being written
            with contextlib.suppress(FileNotFoundError):
                found.append((path.stat().st_mtime, path))
        for _, path in sorted(found):
            self.use(path)

    def use(self, path: Path) -> None:
        """`path` (just written, or handed out again) becomes the most recently used."""
        if path in self.files:
            self._forget(path)
        with contextlib.suppress(FileNotFoundError):
            size = path.stat().st_size
            self.files[path] = (math.ceil(size / BLOCK_BYTES) + 1) * BLOCK_BYTES
            self.total += self.files[path]
            self.models += path.suffix == ".keras"

    def evict(self, cap: int, models: int) -> None:
        """Delete the least recently used files until they take at most `cap` bytes and at
        most `models` are built models; the most recent file always stays."""
        while len(self.files) > 1 and (self.total > cap or self.models > models):
            files = iter(self.files)
            if self.total > cap:
                oldest = next(files)
            else:
                oldest = next(path for path in files if path.suffix == ".keras")
            self._forget(oldest)
            # A download under way reads on: the server holds the file open, and an unlinked
            # file lives until it is closed.
            oldest.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                oldest.parent.rmdir()

    def _forget(self, path: Path) -> None:
        self.total -= self.files.pop(path)
        self.models -= path.suffix == ".keras"


# By folder (Gradio's can change: GRADIO_TEMP_DIR). One lock for all: a rewrite of a file
# and its eviction never cross, so a path handed out exists.
_caches: dict[Path, _Cache] = {}
_caches_lock = threading.RLock()


def _folder() -> Path:
    return Path(get_upload_folder()) / "exports"


def _text_file(name: str, text: str) -> str:
    return _file(name, text.encode())


def _file(name: str, data: bytes) -> str:
    """`data` in a file called `name`, in a folder named by both: the same export asked for
    twice is one file, rewritten (which also restarts its time to live)."""
    digest = hashlib.sha256(name.encode() + b"\0" + data).hexdigest()[:24]
    path = _folder() / digest / name
    with _caches_lock:
        write_atomically(path, data)
        _used(path)
    return str(path)


def _used(path: Path) -> None:
    """Count `path` as the most recently used export, and keep the cache under its cap."""
    cap = export_cache_bytes()
    with _caches_lock:
        folder = path.parent.parent
        cache = _caches.get(folder) or _caches.setdefault(folder, _Cache(folder))
        cache.use(path)
        cache.evict(cap, MAX_KEPT_MODELS)


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
    `MAX_KEPT_MODELS` are kept (each is up to 200 MB)."""
    path = _folder() / secrets.token_hex(12) / f"{file_stem(config)}.keras"
    with writing_atomically(path) as temporary:
        model.save(temporary)
    _used(path)
    return str(path)
