"""The app as an MCP server: an agent lists its tools and calls each of them (the summary, a
prediction and Grad-CAM in detail) through the `mcp` client, as Claude Desktop or Cursor would."""

import ast
import asyncio
import base64

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from densenet_demo import PRESETS, summarize
from densenet_demo.architecture.controls import preset_controls
from densenet_demo.architecture.presets import preset_with
from densenet_demo.ui.hosting import mcp_server_enabled

from support import EXAMPLE, launch_app, stop

PICTURE = "data:image/png;base64," + base64.b64encode(EXAMPLE.read_bytes()).decode()
ARTICLE = preset_controls("article")
OVER_THE_LIMIT = {**PRESETS["densenet121"].to_dict(), "stem": "cifar"}  # 7 M parameters
# A valid call of every tool, and the refusal it must get (None: an answer).
EVERY_TOOL = {
    "summary": ({"preset": "fashion", "batch_size": 64, "memory_gib": 24}, None),
    "explore": ({**ARTICLE, "batch_size": 32, "memory_gib": 12.5}, None),
    "compare": (
        {"config_a": PRESETS["fashion"].to_dict(), "config_b": "?preset=fashion&growth_rate=24"},
        None,
    ),
    "load_preset": ({"name": "article", "memory_gib": 40}, None),
    "load_link": ({}, None),
    "export_layer_table": (ARTICLE, None),
    "export_config": (ARTICLE, None),
    "export_code": (ARTICLE, None),
    "build_with_keras": (ARTICLE, None),
    "export_keras": (ARTICLE, None),
    "classify": ({"image": PICTURE, "top_k": 2}, None),
    "describe": ({"model": "fashion"}, None),
    "explain": ({"image": PICTURE, "opacity": 0.3}, None),
    "misclassified": ({"true_class": "Shirt", "predicted_class": "T-shirt/top"}, None),
    "runs": ({}, None),
    # Valid calls the server refuses at once (a job would train for minutes).
    "train": (
        {"config": OVER_THE_LIMIT, "train_images": 1000, "epochs": 1, "train_batch_size": 32},
        "parameters is over this server's limit of 2,000,000",
    ),
    "cancel": ({"run_id": "run-20200101-000000-0000"}, "is not a training job of this server"),
}


def call_tools(app_url: str, *calls: tuple[str, dict]) -> tuple[dict, list]:
    """({tool name: tool}, the result of each call) over one MCP session."""

    async def session():
        async with (
            streamable_http_client(app_url + "gradio_api/mcp/") as (read, write, _),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            results = [await client.call_tool(name, arguments) for name, arguments in calls]
            return tools, results

    return asyncio.run(session())


def texts(result) -> list[str]:
    return [content.text for content in result.content if content.type == "text"]


def test_an_agent_lists_the_tools_and_calls_summary_predict_and_grad_cam(app_url):
    tools, (summary, prediction, explanation, refused) = call_tools(
        app_url,
        ("summary", {"preset": "fashion", "overrides": {"growth_rate": 24}}),
        ("classify", {"image": PICTURE, "top_k": 3, "model": "fashion"}),
        ("explain", {"image": PICTURE, "model": "fashion", "opacity": 0.5}),
        ("summary", {"preset": "fashion", "overrides": {"growth_rate": 0}}),
    )
    assert {"summary", "compare", "classify", "explain"} <= set(tools)
    described = tools["summary"].inputSchema["properties"]
    assert "growth_rate" in described["overrides"]["description"]
    assert ", ".join(PRESETS) in described["preset"]["description"]
    assert "Returns" in tools["summary"].description

    record = ast.literal_eval(texts(summary)[0])
    expected = summarize(preset_with("fashion", {"growth_rate": 24}))
    assert (record["total_params"], record["macs"]) == (expected.total_params, expected.macs)

    assert not prediction.isError
    top = ast.literal_eval(texts(prediction)[0])
    assert len(top["confidences"]) == 3 and top["label"] == top["confidences"][0]["label"]
    assert [content.type for content in prediction.content].count("image") == 1  # what it saw

    assert not explanation.isError
    assert [content.type for content in explanation.content].count("image") == 2
    assert any(text.startswith("Grad-CAM for **") for text in texts(explanation))

    assert refused.isError
    assert texts(refused) == ["growth_rate=0 is invalid: allowed an integer from 1 to 256"]


def test_an_agent_calls_every_tool_with_valid_arguments(app_url):
    names = list(EVERY_TOOL)
    tools, results = call_tools(app_url, *((name, EVERY_TOOL[name][0]) for name in names))
    assert set(tools) == set(EVERY_TOOL)
    for name, result in zip(names, results):
        refusal = EVERY_TOOL[name][1]
        if refusal is None:
            assert not result.isError and result.content, (name, texts(result))
        else:  # the server's own sentence, not the client's schema check
            assert result.isError, name
            assert refusal in texts(result)[0], (name, texts(result))


def test_every_tool_publishes_a_valid_json_schema(app_url):
    from jsonschema.validators import validator_for

    tools, _ = call_tools(app_url)
    for name, tool in tools.items():
        schema = tool.inputSchema
        validator_for(schema).check_schema(schema)  # raises on `"type": {}`
        for parameter, described in schema["properties"].items():
            kinds = described.get("type")
            assert kinds != {} and (kinds is not None or "anyOf" in described), (name, parameter)


@pytest.mark.server
def test_gradio_mcp_server_false_turns_the_mcp_server_off(tmp_path):
    process, url = launch_app(tmp_path, GRADIO_MCP_SERVER="False")
    try:
        assert httpx.post(url + "gradio_api/mcp/", json={}, timeout=10).status_code == 404
        assert httpx.get(url + "gradio_api/info", timeout=10).status_code == 200
    finally:
        stop(process)


def test_the_mcp_switch_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("GRADIO_MCP_SERVER", "maybe")
    with pytest.raises(SystemExit, match="GRADIO_MCP_SERVER must be True or False; got 'maybe'"):
        mcp_server_enabled()
    monkeypatch.setenv("GRADIO_MCP_SERVER", "false")
    assert mcp_server_enabled() is False
    monkeypatch.delenv("GRADIO_MCP_SERVER")
    assert mcp_server_enabled() is True
