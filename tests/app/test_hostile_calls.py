"""Hostile API calls over HTTP: a list where a model name belongs, an address over 64 KB, a
link with a refused value, more values than an endpoint takes. Each gets one sentence (or a
bounded answer), and the app serves on."""

import http.client
import json
from urllib.parse import urlsplit

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from support import EXAMPLE

LONG_QUERY = "preset=article&growth_rate=" + "1" * 70_000


def call(app_url: str, endpoint: str, data: list, query: str = "") -> tuple[str, object]:
    """("complete", outputs) or ("error", the caller's message) of a queued call."""
    started = httpx.post(
        f"{app_url}gradio_api/call/{endpoint}{query}", json={"data": data}, timeout=60
    )
    started.raise_for_status()
    event = started.json()["event_id"]
    stream = httpx.get(f"{app_url}gradio_api/call/{endpoint}/{event}", timeout=120).text
    kind = stream.split("event: ")[-1].split("\n")[0]
    payload = json.loads(stream.rsplit("data: ", 1)[1])
    return kind, payload["error"] if kind == "error" else payload


def raw_request(app_url: str, method: str, target: str) -> tuple[int, str]:
    """Status and body of a request httpx would refuse to send (an address over 64 KB)."""
    address = urlsplit(app_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    body = json.dumps({"data": []}) if method == "POST" else None
    connection.request(method, target, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read().decode()


def test_a_list_for_the_model_is_refused_in_one_sentence_naming_it(app_url):
    kind, message = call(app_url, "choose_model", [["fashion"]])
    assert kind == "error"
    assert message.startswith("model=") and "is invalid: allowed fashion" in message


def test_predict_with_a_list_for_the_model_names_the_model_field(client):
    with pytest.raises(AppError, match=r"^model=\['fashion'\] is invalid: allowed fashion"):
        client.predict(handle_file(str(EXAMPLE)), 3, ["fashion"], api_name="/predict")
    label, _, _ = client.predict(handle_file(str(EXAMPLE)), 3, "fashion", api_name="/predict")
    assert label["label"]


@pytest.mark.parametrize(
    "method, target",
    [
        ("POST", "/gradio_api/run/load_link?"),
        ("POST", "/gradio_api/call/load_link?"),
        ("GET", "/?"),
    ],
)
def test_an_address_over_64_kb_is_refused_in_one_sentence(app_url, method, target):
    status, body = raw_request(app_url, method, target + LONG_QUERY)
    assert status == 414
    assert json.loads(body)["detail"].startswith("The address is too long (")
    kind, outputs = call(app_url, "load_link", [])  # the app serves on
    assert kind == "complete"


def test_a_link_with_a_refused_value_says_which_to_an_api_caller(app_url):
    kind, outputs = call(app_url, "load_link", [], "?preset=article&growth_rate=x")
    assert kind == "complete"
    said = [value for value in outputs if isinstance(value, str) and "was not used" in value]
    assert len(said) == 1
    assert "growth_rate='x' in the link could not be read" in said[0].splitlines()[0]


def explore_defaults(client) -> list:
    parameters = client.view_api(print_info=False, return_format="dict")["named_endpoints"][
        "/explore"
    ]["parameters"]
    return [parameter["parameter_default"] for parameter in parameters]


def test_explore_with_one_value_too_many_says_how_many_it_takes(app_url, client):
    values = explore_defaults(client)
    kind, message = call(app_url, "explore", [*values, 99])
    assert kind == "error"
    assert message.startswith(f"/explore takes {len(values)} values (")
    assert message.endswith(f"; got {len(values) + 1}.")
    kind, _ = call(app_url, "explore", values)
    assert kind == "complete"
