"""Workarounds of `ui/gradio_fixes.py` for hostile API calls (8: too many values; 9: an
address too long for Gradio): each works, and each defect is still in plain Gradio. A
`test_gradio_still_*` test failing after an upgrade means upstream fixed it: delete the
workaround and its tests."""

import asyncio

import gradio as gr
import httpx
import pytest
from gradio import route_utils
from starlette.requests import Request
from test_gradio_fixes import area_endpoint, caller_sees  # the same endpoint and reading

from densenet_demo.ui import gradio_fixes

# 8. Too many values.


def test_gradio_still_ignores_values_beyond_those_an_endpoint_takes():
    demo, area = area_endpoint(gr.Blocks)
    demo.validate_inputs(area, [1, 2, 3])  # no error: the third value is dropped unseen


def test_a_call_with_too_many_values_is_told_what_the_endpoint_takes():
    demo, area = area_endpoint(gradio_fixes.Blocks)
    with pytest.raises(gr.Error) as refused:
        demo.validate_inputs(area, [1, 2, 3])
    assert caller_sees(refused.value) == "/area takes 2 values (Height, Width); got 3."


def test_a_call_with_as_many_values_as_the_endpoint_takes_passes():
    demo, area = area_endpoint(gradio_fixes.Blocks)
    demo.validate_inputs(area, [1, 2])


# 9. Addresses too long for Gradio.

LONG_QUERY = b"growth_rate=" + b"1" * 70_000


def request_for(query: bytes) -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "scheme": "http",
            "server": ("127.0.0.1", 7860),
            "path": "/gradio_api/run/load_link",
            "raw_path": b"/gradio_api/run/load_link",
            "query_string": query,
            "headers": [(b"host", b"127.0.0.1:7860")],
            "root_path": "",
        }
    )


def test_gradio_still_fails_on_an_address_over_64_kb():
    with pytest.raises(httpx.InvalidURL):
        route_utils.get_root_url(request_for(LONG_QUERY), "/gradio_api/run/load_link", None)


def answer(app, query: bytes) -> tuple[list[dict], bool]:
    """The messages `app` sends for a request with `query`, and whether the app behind it ran."""
    reached = []

    async def behind(scope, receive, send):
        reached.append(scope)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    sent = []

    async def send(message):
        sent.append(message)

    scope = request_for(query).scope
    asyncio.run(app(behind)(scope, receive, send) if app else behind(scope, receive, send))
    return sent, bool(reached)


def test_an_address_too_long_is_refused_with_414_in_one_sentence():
    sent, reached = answer(gradio_fixes.AddressLimit, LONG_QUERY)
    assert not reached
    assert sent[0]["status"] == 414
    body = b"".join(message.get("body", b"") for message in sent[1:]).decode()
    assert "The address is too long" in body and "8,192" in body


def test_an_ordinary_address_goes_through():
    sent, reached = answer(gradio_fixes.AddressLimit, b"preset=fashion&growth_rate=24")
    assert reached and not sent
