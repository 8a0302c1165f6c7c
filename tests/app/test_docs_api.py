"""docs/api.md as a reader uses it: every Python example there and in the README runs as written
against the app, and every public endpoint and MCP tool the app offers is on the page.

An example may be marked, for the reader and for this test, on the line above its block:
`*Example (slow: why):*` (it builds, trains or explains with a Keras model) or
`*Example (network: why):*` (it needs Keras' ImageNet weights, a download: skipped where the app
says it could not download them)."""

import re
import subprocess
import sys

import httpx
import pytest

from support import ROOT

DOC = ROOT / "docs" / "api.md"
PAGES = [ROOT / "README.md", DOC]
DOC_URL = "http://127.0.0.1:7860/"  # the address the examples are written for
EXAMPLE = re.compile(
    r"(?:^\*Example \((?P<mark>\w+): [^)]*\):\*\n)?^```python\n(?P<code>.*?)^```", re.S | re.M
)
HEADING = re.compile(r"^#+ (.*)$", re.M)
MARKS = {None: (), "slow": (pytest.mark.slow,), "network": ()}
EXAMPLE_TIMEOUT_S = 300


def examples() -> list:
    """Every Python block of the pages, named by its page and the heading above it."""
    params, seen = [], {}
    for page in PAGES:
        text = page.read_text()
        for match in EXAMPLE.finditer(text):
            heading = HEADING.findall(text, 0, match.start())[-1]
            name = page.stem + ":" + re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
            seen[name] = seen.get(name, 0) + 1
            name += f"-{seen[name]}" if seen[name] > 1 else ""
            mark = match["mark"]
            params.append(pytest.param(match["code"], mark, id=name, marks=MARKS.get(mark, ())))
    return params


def test_the_page_has_examples_and_only_known_marks():
    found = examples()
    assert len(found) >= 16
    assert {param.values[1] for param in found} <= set(MARKS)


@pytest.mark.parametrize(("code", "mark"), examples())
def test_an_example_runs_as_written(app_url, code, mark):
    result = subprocess.run(
        [sys.executable, "-c", code.replace(DOC_URL, app_url)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=EXAMPLE_TIMEOUT_S,
        check=False,
    )
    if mark == "network" and result.returncode and "could not be downloaded" in result.stderr:
        pytest.skip("needs Keras' ImageNet weights, and this machine cannot download them")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()


def test_every_public_endpoint_and_mcp_tool_is_on_the_page(client, app_url):
    text = DOC.read_text()
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    tools = [tool["name"] for tool in httpx.get(app_url + "gradio_api/mcp/schema").json()]
    assert len(endpoints) >= 17 and len(tools) >= 17
    assert [name for name in endpoints if f"`{name}`" not in text] == []
    assert [name for name in tools if f"`{name}`" not in text] == []
