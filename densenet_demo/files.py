"""Files: never seen half-written, checked before they are trusted, found where they ship.

Training writes checkpoints, weights, cards and mistakes files with `write_atomically`; loading
compares a weights or mistakes file with the SHA-256 its model card recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary sibling, then rename: a reader never sees half a file, and two
    writers of the same path (threads too: each has its own temporary name) never mix."""
    with writing_atomically(path) as temporary:
        temporary.write_bytes(data)


@contextlib.contextmanager
def writing_atomically(path: Path) -> Iterator[Path]:
    """`write_atomically` for writers that want a path (Keras saves a model to one): yields a
    temporary sibling with the same suffix, renamed onto `path` once the block ends, removed
    if it fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix
    )
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o644)  # as a plain write would leave it (mkstemp makes it 0600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def shipped(folder: str) -> Path:
    """A folder the project ships (`weights`, `examples`): beside the package in the
    repository, inside it once installed with pip (pyproject.toml puts it there)."""
    package = Path(__file__).resolve().parent
    beside = package.parent / folder
    return beside if beside.is_dir() else package / folder


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
