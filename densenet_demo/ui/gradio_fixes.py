"""Every workaround for a defect of Gradio 6.31.0, in one place.

Each defect below has a test that runs plain Gradio and asserts the defect is still there
(`tests/unit/test_gradio_fixes.py`, those of hostile calls in
`tests/unit/test_gradio_fixes_hostile_calls.py`; the one only a browser sees in
`tests/browser/test_gradio_defects.py`). When an upgrade makes such a test fail, upstream has
fixed the defect: delete its workaround here, and the test.

1. Result files rewritten in place. Gradio saves an image a handler returns under a folder
   named by the hash of its bytes, so two requests returning the same image write the same
   path, and `processing_utils.save_pil_to_cache` writes it in place (`Path.write_bytes`:
   truncate, then write). A client downloading that file meanwhile got "peer closed connection
   without sending complete message body": 2-3 of 16 clients sending the same picture 10 times
   failed. Here it is written to a temporary name and renamed into place (`apply`).
2. Cache cleanup under load. `route_utils.delete_files_created_by_app`, run every few minutes
   in a worker thread, iterates over the live sets of files the app wrote while requests add
   to them ("Set changed size during iteration"), and `delete_files_on_schedule` ends for good
   at the first failed round: after that no upload or result was ever deleted (a
   20,000-request soak, benchmarks/load.py: 571 files left past the time limit). Here the
   cleanup walks a snapshot and a failed round is logged and retried at the next (`apply`).
3. MCP tools of events with several outputs. Gradio's MCP server wraps such an event's result
   in a list as if it were one output, so `/predict` came back as one text (the repr of the
   whole tuple). Here the outputs stay separate (`apply_to_mcp`). (No public endpoint returns
   a `gr.State`, so Gradio's `pop_returned_state`, which fails on one the client already
   dropped, is never reached.)
4. Too few values. A call with fewer values than the endpoint takes raises a `ValueError`
   meant for developers, which callers never see (`"error": null`). `Blocks` says how many
   values the endpoint takes, and which.
5. Refusals that do not name the input. Sliders and numbers refuse an out-of-range value with
   "Value 300 is greater than maximum value 64." and a non-number with a bare exception
   (`"error": null`); dropdowns and radios with "Value: x is not in the list of choices". An
   API caller sends a dozen values: `Slider`, `Number`, `Dropdown` and `Radio` name the input
   by its label, quote the value cut short (`short_repr`) and list the choices.
6. Uploads that are not what they claim. `gr.Image` opens any upload with PIL: a file that is
   not an image fails with an exception callers never see, and an image sent as a data: URL is
   decoded and saved again as WebP (a 16-bit grey clipped to white) in a file the cache cleanup
   never deletes. `Image` checks the header first (size, format, decompression bomb: the
   reason in one sentence) and keeps a data: URL's image as sent, deleted with the uploads.
7. Errors of unqueued events. A `gr.Error` raised by an event that runs with `queue=False` is
   not shown on the page (no toast; a queued event's is). Explore's page events are unqueued
   (pure arithmetic, ~10 ms), so they run with `preprocess=False` and check each value through
   its own component themselves (`explore_tab.on_page`), showing a refusal beside the figures.
8. Too many values. Values beyond those an endpoint takes are dropped unseen (Gradio checks
   only for too few), so a caller who sent one too many, or values in the wrong order, got an
   answer to a question it did not ask. `Blocks` refuses the call as it refuses too few.
9. Addresses too long. Gradio parses every call's address with httpx, which refuses one over
   65,536 characters (`InvalidURL`): a `/load_link` with a 70 KB query answered HTTP 500 with
   a traceback in the log, and the same call through the queue never answered. `AddressLimit`
   answers 414 in one sentence before Gradio sees such a request (installed by `hosting`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import tempfile
import time
from pathlib import Path

import gradio as gr
from anyio.to_thread import run_sync
from gradio import processing_utils, route_utils
from PIL import Image as PILImage
from starlette.responses import JSONResponse

from ..architecture.config import short_repr
from ..files import write_atomically
from ..inference.image_file import UNREADABLE_IMAGE, check_image_file

LOG = logging.getLogger(__name__)


# 1. Result files rewritten in place.


def _save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """`processing_utils.save_pil_to_cache`, writing atomically."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    path = (Path(cache_dir) / processing_utils.hash_bytes(data) / f"{name}.{format}").resolve()
    write_atomically(path, data)
    return str(path)


# 2. Cache cleanup under load.


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


def apply() -> None:
    """Install the workarounds 1 and 2 (idempotent; before `launch`)."""
    processing_utils.save_pil_to_cache = _save_pil_to_cache
    route_utils.delete_files_created_by_app = _delete_files_created_by_app
    route_utils.delete_files_on_schedule = _delete_files_on_schedule


# 3. MCP tools of events with several outputs.


async def _execute_without_progress(self, job) -> list:
    """`GradioMCPServer._execute_tool_without_progress`, one list item per output."""
    result = await run_sync(job.result)
    return list(result) if isinstance(result, tuple) else [result]


def apply_to_mcp() -> None:
    """Install the workaround 3 (idempotent). Separate: importing Gradio's MCP support takes
    most of a second, which a page without it does not spend."""
    from gradio.mcp import GradioMCPServer

    GradioMCPServer._execute_tool_without_progress = _execute_without_progress


# 4. Too few values, and 8. too many.


class Blocks(gr.Blocks):
    """A page that tells an API caller who sent too few or too many values how many each
    endpoint takes."""

    def validate_inputs(self, block_fn, inputs):
        if len(inputs) != len(block_fn.inputs):
            names = ", ".join(
                getattr(block, "label", None) or block.get_block_name() for block in block_fn.inputs
            )
            wanted = len(block_fn.inputs)
            raise gr.Error(
                f"/{block_fn.api_name} takes {wanted} value{'s' * (wanted > 1)} "
                f"({names}); got {len(inputs)}.",
                print_exception=False,
            )


# 9. Addresses too long.

MAX_ADDRESS_CHARACTERS = 8_192  # a share link is a few hundred; httpx fails past 65,536


class AddressLimit:
    """ASGI middleware answering 414 to a request whose path and query are over
    `MAX_ADDRESS_CHARACTERS` long, before Gradio parses the address (and fails)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            length = len(scope.get("raw_path") or scope["path"]) + len(scope["query_string"])
            if length > MAX_ADDRESS_CHARACTERS:
                refusal = JSONResponse(
                    {
                        "detail": f"The address is too long ({length:,} characters): the "
                        f"limit is {MAX_ADDRESS_CHARACTERS:,}."
                    },
                    status_code=414,
                )
                return await refusal(scope, receive, send)
        return await self.app(scope, receive, send)


# 5. Refusals that do not name the input.


def _named_preprocess(component, preprocess, payload):
    try:
        return preprocess(payload)
    except gr.Error as error:
        raise gr.Error(f"{component.label}: {error.message}", print_exception=False) from None
    except (TypeError, ValueError, OverflowError):
        raise gr.Error(
            f"{component.label}: {short_repr(payload)} is not a number", print_exception=False
        ) from None


def _choice_preprocess(component, preprocess, payload):
    try:
        return preprocess(payload)
    except gr.Error:
        allowed = ", ".join(repr(value) for _, value in component.choices)
        raise gr.Error(
            f"{component.label}: {short_repr(payload)} is not one of {allowed}",
            print_exception=False,
        ) from None


class Slider(gr.Slider):
    is_template = True  # rendered by Gradio's own slider

    def preprocess(self, payload):
        return _named_preprocess(self, super().preprocess, payload)


class Number(gr.Number):
    is_template = True  # rendered by Gradio's own number box

    def preprocess(self, payload):
        return _named_preprocess(self, super().preprocess, payload)


class Dropdown(gr.Dropdown):
    is_template = True  # rendered by Gradio's own dropdown

    def preprocess(self, payload):
        return _choice_preprocess(self, super().preprocess, payload)


class Radio(gr.Radio):
    is_template = True  # rendered by Gradio's own radio group

    def preprocess(self, payload):
        return _choice_preprocess(self, super().preprocess, payload)


# 6. Uploads that are not what they claim.


class Image(gr.Image):
    is_template = True  # rendered by Gradio's own image component

    def preprocess(self, payload):
        # Gradio opens (and may convert) the file itself: refuse a bomb or an unsupported
        # format from its header first, with the reason.
        source = _upload_source(payload) if payload is not None else None
        if source is not None:
            try:
                image_format = check_image_file(source)
            except ValueError as error:
                raise gr.Error(str(error), print_exception=False) from None
            if isinstance(source, bytes) and self.type == "filepath":
                return self._kept(source, image_format)
        try:
            return super().preprocess(payload)
        except gr.Error:
            raise
        except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError):
            raise gr.Error(UNREADABLE_IMAGE, print_exception=False) from None

    def _kept(self, data: bytes, image_format: str) -> str:
        """A data: URL's image, kept as sent, like an upload, in a file deleted with them."""
        os.makedirs(self.GRADIO_CACHE, exist_ok=True)
        handle, path = tempfile.mkstemp(
            dir=self.GRADIO_CACHE, prefix="inline-", suffix="." + image_format.lower()
        )
        self.temp_files.add(path)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        return path


def _upload_source(payload):
    """The uploaded file's path, or the bytes of a data: URL (API callers may send one)."""
    if payload.url and payload.url.startswith("data:"):
        try:
            return base64.b64decode(payload.url.partition(",")[2], validate=True)
        except binascii.Error:
            return b""  # not base64: refused as unreadable
    return payload.path
