"""Workarounds for defects of Gradio 6.31.0, applied once when the page is built.

Content-addressed result files. Gradio saves an image a handler returns under a folder named
by the hash of its bytes, so two requests returning the same image (many people clicking the
same example) write the same path, and `processing_utils.save_pil_to_cache` writes it in place
(`Path.write_bytes`: truncate, then write). A client downloading that file meanwhile got
"peer closed connection without sending complete message body (received 0 bytes, expected
538)": 2-3 of 16 clients sending the same picture 10 times failed. Written to a temporary name
and renamed into place, a reader always gets a whole file, the old one or the new one, of the
same bytes. (Gradio's own `save_file_to_cache` already writes that way; uploads are renamed.)
"""

from __future__ import annotations

from pathlib import Path

from gradio import processing_utils

from ..files import write_atomically


def _save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """`processing_utils.save_pil_to_cache`, writing atomically."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    path = (Path(cache_dir) / processing_utils.hash_bytes(data) / f"{name}.{format}").resolve()
    write_atomically(path, data)
    return str(path)


def apply() -> None:
    """Install the workarounds (idempotent)."""
    processing_utils.save_pil_to_cache = _save_pil_to_cache
