"""Every public endpoint, as today's gradio_client and HTTP callers use it: each name is still
published with its parameters, and each answers a valid call made positionally and by keyword
with a real result. Its published types are the caller's: integers as int, free numbers as
float, JSON with a schema, and outputs under short readable names."""

import json
import re

import httpx
import pytest
from gradio_client import handle_file

from densenet_demo import PRESETS, summarize
from densenet_demo.architecture.controls import CONTROL_NAMES, CONTROLS, preset_controls
from densenet_demo.architecture.presets import preset_with
from densenet_demo.inference.runs import is_run_id

from support import EXAMPLE, HANG_GUARD_S

# Today's endpoints and their parameters, in order: a caller passing values positionally
# relies on both.
ENDPOINTS = {
    "/explore": [*CONTROL_NAMES, "batch_size", "optimizer", "memory_gib"],
    "/compare": ["config_a", "config_b", "batch_size", "optimizer", "memory_gib"],
    "/load_preset": ["name", "batch_size", "optimizer", "memory_gib"],
    "/load_link": [],
    "/build_keras": list(CONTROL_NAMES),
    "/export_keras": list(CONTROL_NAMES),
    "/export_layer_table": list(CONTROL_NAMES),
    "/export_config": list(CONTROL_NAMES),
    "/export_code": list(CONTROL_NAMES),
    "/predict": ["image", "top_k", "model"],
    "/choose_model": ["model"],
    "/explain": ["image", "model", "opacity"],
    "/misclassified": ["true_class", "predicted_class"],
    "/summary": ["preset", "overrides", "batch_size", "optimizer", "memory_gib"],
    "/train": ["config", "train_images", "epochs", "train_batch_size", "learning_rate"],
    "/cancel_training": ["run_id"],
    "/runs": [],
}
ARTICLE = preset_controls("article")
TINY = {**PRESETS["fashion"].to_dict(), "block_layers": [1, 1], "growth_rate": 4}
QUICK = (1_000, 1, 50, 0.1)  # training images, epochs, batch size, learning rate


def api_info(client) -> dict:
    return client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def test_every_endpoint_of_today_is_published_with_its_parameters(client):
    endpoints = api_info(client)
    assert set(endpoints) == set(ENDPOINTS)
    for name, parameters in ENDPOINTS.items():
        assert [p["parameter_name"] for p in endpoints[name]["parameters"]] == parameters, name


def test_no_hidden_button_carries_an_endpoint(app_url):
    """Each public endpoint is registered from the one table, without a trigger; the page's
    own events are private."""
    config = httpx.get(app_url + "config", timeout=30).json()
    public = {d["api_name"]: d for d in config["dependencies"] if d["api_visibility"] == "public"}
    assert set(public) == {name.lstrip("/") for name in ENDPOINTS}
    assert {name: d["targets"] for name, d in public.items() if d["targets"]} == {}


def test_explore_answers_positional_keyword_and_plain_http_calls(client, app_url):
    by_position = client.predict(*ARTICLE.values(), 32, "adam", 24, api_name="/explore")
    by_name = client.predict(
        **ARTICLE, batch_size=32, optimizer="adam", memory_gib=24, api_name="/explore"
    )
    assert by_position[0] == by_name[0] and "153,482" in by_name[0]
    assert by_name[5].endswith("preset=article&" + by_name[5].split("&", 1)[1])
    raw = httpx.post(
        app_url + "gradio_api/call/explore",
        json={"data": [*ARTICLE.values(), 32, "adam", 24]},
        timeout=30,
    )
    answer = httpx.get(
        app_url + f"gradio_api/call/explore/{raw.json()['event_id']}", timeout=HANG_GUARD_S
    ).text
    assert "event: complete" in answer and "153,482" in answer


def test_compare_and_load_preset_and_load_link_answer(client):
    a, b = PRESETS["fashion"].to_dict(), {**PRESETS["fashion"].to_dict(), "growth_rate": 24}
    headline, _, _, fields = client.predict(a, b, 32, api_name="/compare")
    assert fields == "| Field | A | B |\n|---|---|---|\n| `growth_rate` | `16` | `24` |"
    assert "**A:** `fashion`" in headline
    named = client.predict(config_a=a, config_b=json.dumps(b), memory_gib=40, api_name="/compare")
    assert named[0] == client.predict(a, b, 32, "sgd-momentum", 40, api_name="/compare")[0]

    preset = client.predict("article", 32, api_name="/load_preset")
    assert dict(zip(CONTROL_NAMES, preset)) == ARTICLE and "153,482" in preset[len(CONTROLS)]
    named = client.predict(name="fashion", optimizer="adam", api_name="/load_preset")
    assert named[0] == "fashion" and "Fashion" in named[len(CONTROLS)]

    linked = client.predict(api_name="/load_link")
    assert dict(zip(CONTROL_NAMES, linked)) == preset_controls("densenet121")


@pytest.mark.parametrize("name", ["/export_layer_table", "/export_config", "/export_code"])
def test_each_export_answers_with_its_file(client, name):
    by_position = client.predict(*ARTICLE.values(), api_name=name)
    by_name = client.predict(**ARTICLE, api_name=name)
    with open(by_position, encoding="utf-8") as first, open(by_name, encoding="utf-8") as second:
        text = first.read()
        assert text == second.read() and text
    if name == "/export_config":
        assert json.loads(text)["block_layers"] == [4, 4]


def test_the_keras_builds_answer(client):
    report = client.predict(*ARTICLE.values(), api_name="/build_keras")
    assert report.startswith("AGREE: Keras count_params() = 153,482")
    report, path = client.predict(**ARTICLE, api_name="/export_keras")
    assert report.startswith("AGREE") and path.endswith("article.keras")


def test_the_classify_and_model_endpoints_answer(client):
    label, seen, about = client.predict(
        handle_file(str(EXAMPLE)), 3, "fashion", api_name="/predict"
    )
    assert len(label["confidences"]) == 3 and seen.endswith((".png", ".webp")) and "ms" in about
    named = client.predict(image=handle_file(str(EXAMPLE)), top_k=2, api_name="/predict")
    assert len(named[0]["confidences"]) == 2 and named[0]["label"] == label["label"]

    assert "Fashion-MNIST" in client.predict("fashion", api_name="/choose_model")
    assert "Fashion-MNIST" in client.predict(model="fashion", api_name="/choose_model")

    on_upload, on_input, caption = client.predict(
        handle_file(str(EXAMPLE)), "fashion", 0.5, api_name="/explain"
    )
    assert caption.startswith("Grad-CAM for **") and on_upload and on_input
    named = client.predict(image=handle_file(str(EXAMPLE)), opacity=0.2, api_name="/explain")
    assert named[2] == caption

    gallery, how_many = client.predict("Shirt", "T-shirt/top", api_name="/misclassified")
    assert gallery and str(len(gallery)) in how_many.replace(",", "")
    named = client.predict(
        true_class="Shirt", predicted_class="T-shirt/top", api_name="/misclassified"
    )
    assert named[1] == how_many


def test_summary_answers_positional_and_keyword_calls(client):
    record = client.predict("fashion", {"growth_rate": 24}, 64, api_name="/summary")
    named = client.predict(
        preset="fashion", overrides={"growth_rate": 24}, batch_size=64, api_name="/summary"
    )
    assert record == named
    expected = summarize(preset_with("fashion", {"growth_rate": 24}))
    assert record["total_params"] == expected.total_params


def test_train_cancel_training_and_runs_answer(client):
    """Two tiny jobs (positional, then by keyword, the config as JSON text, then as an
    object), each cancelled as soon as it has a run id."""
    by_position = client.submit(json.dumps(TINY), *QUICK, api_name="/train")
    by_name = client.submit(
        config=TINY,
        train_images=1_000,
        epochs=1,
        train_batch_size=50,
        learning_rate=0.1,
        api_name="/train",
    )
    for job in (by_position, by_name):
        first = next(iter(job))
        assert is_run_id(first["run_id"]) and first["state"] in ("queued", "starting", "training")
        state = client.predict(run_id=first["run_id"], api_name="/cancel_training")
        assert state["run_id"] == first["run_id"]
        job.result()
        assert job.outputs()[-1]["state"] in ("cancelled", "done")
    runs = client.predict(api_name="/runs")
    assert isinstance(runs, list) and all(is_run_id(run["run_id"]) for run in runs)


def test_integers_are_published_as_int_and_free_numbers_as_float(client):
    endpoints = api_info(client)
    types = {
        (name, p["parameter_name"]): p["python_type"]["type"]
        for name, endpoint in endpoints.items()
        for p in endpoint["parameters"]
    }
    integral = ("height", "width", "channels", "num_classes", "growth_rate", "bn_size")
    integral += ("init_features", "transition_features")
    for name in ("/explore", "/build_keras", "/export_keras", "/export_layer_table"):
        for parameter in integral:
            assert types[name, parameter] == "int", (name, parameter)
        assert types[name, "compression"] == "float"
    assert types["/predict", "top_k"] == "int"
    for name in ("/explore", "/compare", "/load_preset", "/summary"):
        assert types[name, "memory_gib"] == "float", name
        assert types[name, "batch_size"] == "int", name
    for parameter in ("train_images", "epochs", "train_batch_size"):
        assert types["/train", parameter] == "int", parameter
    assert types["/train", "learning_rate"] == "float"


def test_json_values_carry_a_schema(client):
    endpoints = api_info(client)
    summary = endpoints["/summary"]["returns"]
    assert [r["type"]["type"] for r in summary] == ["object"]
    assert {"config", "total_params", "link_query"} <= set(summary[0]["type"]["properties"])
    for name, parameter in (("/compare", "config_a"), ("/train", "config")):
        [schema] = [
            p["type"] for p in endpoints[name]["parameters"] if p["parameter_name"] == parameter
        ]
        assert schema.get("type") != {} and ("anyOf" in schema or "type" in schema), schema


def test_outputs_have_short_readable_names(client):
    for name, endpoint in api_info(client).items():
        for value in endpoint["returns"]:
            label = value["label"]
            assert re.fullmatch(r"[a-z][a-z0-9_]{0,23}", label), (name, label)
