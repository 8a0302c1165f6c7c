"""Workarounds for defects of Gradio 6.31.0, applied once when the page is built.

Content-addressed result files. Gradio saves an image a handler returns under a folder named
by the hash of its bytes, so two requests returning the same image (many people clicking the
same example) write the same path, and `processing_utils.save_pil_to_cache` writes it in place
(`Path.write_bytes`: truncate, then write). A client downloading that file meanwhile got
"peer closed connection without sending complete message body (received 0 bytes, expected
538)": 2-3 of 16 clients sending the same picture 10 times failed. Written to a temporary name
and renamed into place, a reader always gets a whole file, the old one or the new one, of the
same bytes. (Gradio's own `save_file_to_cache` already writes that way; uploads are renamed.)

MCP tools of queued events with several outputs. Gradio's MCP server calls such an event
through `gradio_client` and wraps its result in a list as if it were one output, so
`/predict` came back as one text (the repr of the whole tuple, images as paths) and
`/explain`, which also returns a `gr.State`, failed with "pop index out of range" (the client
had already dropped the State that `pop_returned_state` then removes by position). Here the
outputs stay separate (images come back as images), and outputs the client already stripped
of their State are left as they are.

Cache cleanup under load. `route_utils.delete_files_created_by_app`, run every few minutes in a
worker thread, iterates over the sets of files the app wrote while requests add to them, so a
busy server met "Set changed size during iteration"; the exception ended the cleanup task for
good, and from then on no upload or result was ever deleted (a 20,000-request soak,
benchmarks/load.py: 571 files left past the time limit) while the sets kept growing. Here the
cleanup walks a snapshot, forgets files already gone, and a failed round is logged and retried
at the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from anyio.to_thread import run_sync
from gradio import processing_utils, route_utils

from ..files import write_atomically


def _save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """`processing_utils.save_pil_to_cache`, writing atomically."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    path = (Path(cache_dir) / processing_utils.hash_bytes(data) / f"{name}.{format}").resolve()
    write_atomically(path, data)
    return str(path)


LOG = logging.getLogger(__name__)


def _delete_files_created_by_app(blocks, age: int | None) -> None:
    """`route_utils.delete_files_created_by_app`, over a snapshot of each set of files."""
    keep = set()
    for component in blocks.blocks.values():
        keep.update(getattr(component, "keep_in_cache", set()))
    now = time.time()
    for files in blocks.temp_file_sets:
        gone = set()
        for file in list(files):  # requests add files meanwhile
            if file in keep:
                continue
            path = Path(file)
            try:
                if age is None or now - path.lstat().st_ctime > age:
                    path.unlink()
                    gone.add(file)
            except FileNotFoundError:
                gone.add(file)
        files -= gone


async def _delete_files_on_schedule(app, frequency: int, age: int) -> None:
    """`route_utils.delete_files_on_schedule`, going on after a failed round."""
    while True:
        await asyncio.sleep(frequency)
        try:
            await run_sync(route_utils.delete_files_created_by_app, app.get_blocks(), age)
        except Exception:
            LOG.exception("Deleting old cached files failed; trying again in %s s", frequency)


async def _execute_without_progress(self, job) -> list:
    """`GradioMCPServer._execute_tool_without_progress`, one list item per output."""
    result = await run_sync(job.result)
    return list(result) if isinstance(result, tuple) else [result]


def _pop_state_once(pop_returned_state):
    def pop(components, data) -> list:
        """`GradioMCPServer.pop_returned_state`, unless `gradio_client` already dropped them."""
        return data if len(data) != len(components) else pop_returned_state(components, data)

    pop.patched = True
    return pop


def apply() -> None:
    """Install the workarounds of the page (idempotent; before `launch`)."""
    processing_utils.save_pil_to_cache = _save_pil_to_cache
    route_utils.delete_files_created_by_app = _delete_files_created_by_app
    route_utils.delete_files_on_schedule = _delete_files_on_schedule


def apply_to_mcp() -> None:
    """Install the workarounds of the MCP server (idempotent). Separate: importing Gradio's
    MCP support takes most of a second, which a page without it does not spend."""
    from gradio.mcp import GradioMCPServer

    GradioMCPServer._execute_tool_without_progress = _execute_without_progress
    if not getattr(GradioMCPServer.pop_returned_state, "patched", False):
        original = GradioMCPServer.pop_returned_state
        GradioMCPServer.pop_returned_state = staticmethod(_pop_state_once(original))
