"""How the app is served to the public: address, request limits, queue and concurrency, cache
cleanup and memory.

Every setting `app.py` hands to Gradio's `launch` and `queue`, and every event's concurrency
limit, lives here, so the tests start the server with exactly what users get. Three things a
long-running public server needs and the defaults lack: Gradio reads a JSON body of any size
into memory (its `max_file_size` covers uploads only) and keeps every upload and result on disk
for the life of the process, and glibc keeps what a Keras build frees.
"""

from __future__ import annotations

import ctypes
import os

from starlette.middleware import Middleware
from starlette.responses import JSONResponse

from ..inference.image_file import MAX_FILE_BYTES
from . import gradio_fixes
from .style import PAGE_CSS

# The largest honest request: an image at the upload limit sent as a base64 data: URL (4/3 of
# its bytes), plus room for the JSON around it.
MAX_REQUEST_BYTES = MAX_FILE_BYTES * 4 // 3 + 2**20
CACHE_TTL_VARIABLE = "DENSENET_CACHE_TTL_S"
MCP_VARIABLE = "GRADIO_MCP_SERVER"
DEFAULT_CACHE_TTL_S = 3600
EXPORT_CACHE_VARIABLE = "DENSENET_EXPORT_CACHE_MB"
# Two models at the build limits (up to 200 MB each) and the text exports beside them.
DEFAULT_EXPORT_CACHE_MB = 500
MAX_CLEANUP_INTERVAL_S = 300
SESSION_CAPACITY = 500
# Bounded: twice the 32 concurrent users benchmarks/load.py serves with no error; past 64
# waiting events a caller hears "queue full" at once, not minutes later. Events without a
# limit of their own run one at a time.
QUEUE_OPTIONS = {"max_size": 64, "default_concurrency_limit": 1}
# Predictions run side by side (up to 16) and meet in one forward pass per model.
CLASSIFY_CONCURRENCY = {"concurrency_limit": 16, "concurrency_id": "classify"}
# Gradients need the Keras model (~10x a LiteRT pass): two at a time at most.
EXPLAIN_CONCURRENCY = {"concurrency_limit": 2, "concurrency_id": "explain"}
# One Keras build at a time on its own id: builds queue behind each other, never in the
# prediction slots, so predictions keep flowing while models build.
BUILD_CONCURRENCY = {"concurrency_limit": 1, "concurrency_id": "keras"}
# The downloads of a configuration (the page's, on every change, and /export_*): files
# written to disk, queued so that two at a time at most are written.
EXPORT_CONCURRENCY = {"concurrency_limit": 2, "concurrency_id": "export"}
# Training followers (the page's and /train's) wait on the one job training and the queue;
# each holds a thread, mostly asleep. The jobs themselves run one at a time in a worker.
TRAIN_CONCURRENCY = {"concurrency_limit": 16, "concurrency_id": "train"}

try:  # glibc's; elsewhere (macOS, musl) memory is left to the allocator
    _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):
    _malloc_trim = None


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware answering 413 to a request whose body is over `limit` bytes.

    A declared Content-Length over the limit is refused before a byte of the body is read; a
    chunked body is counted as it arrives and refused as soon as it crosses the limit, whatever
    the route was doing with it, so no handler ever holds more than `limit` bytes of one.
    """

    def __init__(self, app, limit: int = MAX_REQUEST_BYTES):
        self.app = app
        self.limit = limit

    def _refusal(self) -> JSONResponse:
        return JSONResponse(
            {"detail": f"Request body too large: the limit is {self.limit:,} bytes."},
            status_code=413,
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            return await self._refusal()(scope, receive, send)

        received = 0
        over = started = False

        async def counted_receive():
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    over = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message):
            nonlocal started
            if over:  # the handler's own answer to the cut-off body is replaced by ours
                return
            started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not over or started:
                raise
        if over and not started:
            await self._refusal()(scope, receive, send)


def release_freed_memory() -> None:
    """Hand the C heap's free pages back to the system. A Keras build allocates and frees
    hundreds of MB in small blocks, which glibc keeps: without this the server's resident
    memory drifts up and down by tens of MB across builds."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def cache_ttl_s() -> int:
    """How long an upload or result stays on disk, from DENSENET_CACHE_TTL_S (default 1 h)."""
    value = os.environ.get(CACHE_TTL_VARIABLE, "").strip() or str(DEFAULT_CACHE_TTL_S)
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(
            f"{CACHE_TTL_VARIABLE} must be a whole number of seconds, at least "
            f"1; got {value[:40]!r}."
        )
    return int(value)


def export_cache_bytes() -> int:
    """How many bytes of files the page hands out (`exports`) stay on disk at most, from
    DENSENET_EXPORT_CACHE_MB (MB of 2**20 bytes; default 500): past it the least recently
    used go first, whatever their age."""
    value = os.environ.get(EXPORT_CACHE_VARIABLE, "").strip() or str(DEFAULT_EXPORT_CACHE_MB)
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(
            f"{EXPORT_CACHE_VARIABLE} must be a whole number of MB, at least 1; got {value[:40]!r}."
        )
    return int(value) * 2**20


def cache_cleanup() -> tuple[int, int]:
    """Gradio's `delete_cache` (every how many seconds, files older than how many): files
    are removed between one TTL and one TTL plus five minutes after they were written; the
    example images are never removed."""
    ttl = cache_ttl_s()
    return min(ttl, MAX_CLEANUP_INTERVAL_S), ttl


def mcp_server_enabled() -> bool:
    """Whether the page is also an MCP server (`/gradio_api/mcp/`, its tools the documented
    API endpoints): on unless GRADIO_MCP_SERVER, Gradio's own variable, says False."""
    value = os.environ.get(MCP_VARIABLE, "").strip().lower() or "true"
    if value not in ("true", "false"):
        raise SystemExit(f"{MCP_VARIABLE} must be True or False; got {value[:40]!r}.")
    return value == "true"


def launch_options() -> dict:
    """Keyword arguments for `Blocks.launch`.

    Loopback unless told otherwise (Spaces sets GRADIO_SERVER_NAME=0.0.0.0; an empty value
    would bind every interface); no share link unless GRADIO_SHARE=True asks for one. Gradio
    copies the page's config into every session, and every API call is one (~140 KB each here;
    its default keeps 10,000, ~1.4 GB): no event keeps state, so 500 are plenty.
    """
    export_cache_bytes()  # a malformed cap is refused at start, not at the first download
    return {
        "server_name": os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
        "server_port": int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        "max_file_size": MAX_FILE_BYTES,
        "state_session_capacity": SESSION_CAPACITY,
        "app_kwargs": {
            "middleware": [
                Middleware(gradio_fixes.AddressLimit),
                Middleware(BodyLimit, limit=MAX_REQUEST_BYTES),
            ]
        },
        "css": PAGE_CSS,
        "mcp_server": mcp_server_enabled(),
    }
