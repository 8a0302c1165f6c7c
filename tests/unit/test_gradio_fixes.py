"""The workarounds of `ui/gradio_fixes.py`: each one works, and each defect it works around is
still in plain Gradio. A `test_gradio_still_*` test failing after an upgrade means upstream
fixed that defect: delete the workaround and its tests (the module's docstring numbers them).
"""

import asyncio
import base64
import io
import os
import threading
import time
import types

import gradio as gr
import numpy as np
import pytest
from gradio import processing_utils, route_utils, utils
from gradio.data_classes import ImageData
from gradio.mcp import GradioMCPServer
from PIL import Image as PILImage

from densenet_demo.ui import gradio_fixes

# Gradio's own functions, taken before any test installs the workarounds over them.
PLAIN_SAVE_PIL_TO_CACHE = processing_utils.save_pil_to_cache
PLAIN_DELETE_FILES = route_utils.delete_files_created_by_app
PLAIN_DELETE_ON_SCHEDULE = route_utils.delete_files_on_schedule
PLAIN_EXECUTE_TOOL = GradioMCPServer._execute_tool_without_progress
assert PLAIN_DELETE_FILES is not gradio_fixes._delete_files_created_by_app


def caller_sees(error: BaseException) -> str | None:
    """What an API caller reads of `error` from a server that hides internals (the app's)."""
    return utils.error_payload(error, show_error=False)["error"]


# 1. Result files rewritten in place.


def save_twice(save, cache) -> tuple[int, int]:
    """The inode of a result file after one save and after the same image is saved again."""
    image = PILImage.new("RGB", (4, 4), "red")
    path = save(image, str(cache))
    first = os.stat(path).st_ino
    assert save(image, str(cache)) == path
    return first, os.stat(path).st_ino


def test_gradio_still_rewrites_a_result_file_in_place(tmp_path):
    first, second = save_twice(PLAIN_SAVE_PIL_TO_CACHE, tmp_path)
    assert first == second  # a reader of the file meanwhile sees it truncated


def test_a_result_file_is_replaced_whole(tmp_path):
    first, second = save_twice(gradio_fixes._save_pil_to_cache, tmp_path)
    assert first != second  # renamed into place: a reader keeps the whole old file


# 2. Cache cleanup under load.


def old_files(folder, count: int) -> set[str]:
    files = set()
    for index in range(count):
        path = folder / f"old-{index}.png"
        path.write_bytes(b"x")
        files.add(str(path))
    return files


def test_gradio_still_iterates_the_live_set_of_files(tmp_path, monkeypatch):
    files = old_files(tmp_path, 3)
    app = types.SimpleNamespace(blocks={}, temp_file_sets=[files])
    remove = os.remove

    def remove_while_a_request_adds_a_file(path):
        remove(path)
        files.add(str(tmp_path / "new.png"))

    monkeypatch.setattr(route_utils.os, "remove", remove_while_a_request_adds_a_file)
    with pytest.raises(RuntimeError, match="Set changed size during iteration"):
        PLAIN_DELETE_FILES(app, 0)


def test_the_cleanup_deletes_old_files_while_requests_add_new_ones(tmp_path):
    old = old_files(tmp_path, 2_000)
    files = set(old)
    app = types.SimpleNamespace(blocks={}, temp_file_sets=[files])
    done = threading.Event()

    def upload():  # a request registering its files, as fast as it can
        count = 0
        while not done.is_set():
            files.add(str(tmp_path / f"new-{count}.png"))
            count += 1
            time.sleep(0)  # hand the GIL back: otherwise each of the cleanup's unlinks waits 5 ms

    uploads = threading.Thread(target=upload)
    uploads.start()
    try:
        gradio_fixes._delete_files_created_by_app(app, age=0)
    finally:
        done.set()
        uploads.join()
    assert not any(path.name.startswith("old-") for path in tmp_path.iterdir())
    assert not files & old  # forgotten once deleted: the sets do not grow forever


def cleanup_rounds(schedule, monkeypatch) -> tuple[list, BaseException | None]:
    """The rounds `schedule` runs (for up to 2 s) when its first round fails, and how it ended
    (None: still running)."""
    rounds = []

    def cleanup(blocks, age):
        rounds.append(age)
        if len(rounds) == 1:
            raise PermissionError("a file the app cannot delete")

    monkeypatch.setattr(route_utils, "delete_files_created_by_app", cleanup)
    app = types.SimpleNamespace(get_blocks=lambda: None)

    async def watch():
        task = asyncio.create_task(schedule(app, 0.01, 60))
        deadline = time.monotonic() + 2
        while len(rounds) < 3 and not task.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if task.done():
            return task.exception()
        task.cancel()
        return None

    return rounds, asyncio.run(watch())


def test_gradio_still_stops_cleaning_after_one_failed_round(monkeypatch):
    rounds, ended = cleanup_rounds(PLAIN_DELETE_ON_SCHEDULE, monkeypatch)
    assert rounds == [60] and isinstance(ended, PermissionError)


def test_a_failed_cleanup_round_is_retried_at_the_next(monkeypatch):
    rounds, ended = cleanup_rounds(gradio_fixes._delete_files_on_schedule, monkeypatch)
    assert rounds[:3] == [60, 60, 60] and ended is None


def test_the_page_installs_the_cleanup_before_it_launches():
    gradio_fixes.apply()
    assert processing_utils.save_pil_to_cache is gradio_fixes._save_pil_to_cache
    assert route_utils.delete_files_created_by_app is gradio_fixes._delete_files_created_by_app
    assert route_utils.delete_files_on_schedule is gradio_fixes._delete_files_on_schedule


# 3. MCP tools of events with several outputs.


def tool_result(execute, result) -> list:
    job = types.SimpleNamespace(result=lambda: result)
    return asyncio.run(execute(None, job))


def test_gradio_still_gives_an_mcp_tool_several_outputs_as_one():
    assert tool_result(PLAIN_EXECUTE_TOOL, ("label", "image.png")) == [("label", "image.png")]


def test_an_mcp_tool_gets_one_item_per_output():
    assert tool_result(gradio_fixes._execute_without_progress, ("label", "image.png")) == [
        "label",
        "image.png",
    ]
    assert tool_result(gradio_fixes._execute_without_progress, "label") == ["label"]


# 4. Too few values.


def area_endpoint(blocks_class):
    with blocks_class() as demo:
        height, width = gr.Number(label="Height"), gr.Number(label="Width")
        gr.Button().click(lambda *_: "", [height, width], gr.Textbox(), api_name="area")
    return demo, next(iter(demo.fns.values()))


def test_gradio_still_hides_why_a_call_with_too_few_values_failed():
    demo, area = area_endpoint(gr.Blocks)
    with pytest.raises(ValueError) as refused:
        demo.validate_inputs(area, [1])
    assert caller_sees(refused.value) is None


def test_a_call_with_too_few_values_is_told_what_the_endpoint_takes():
    demo, area = area_endpoint(gradio_fixes.Blocks)
    with pytest.raises(gr.Error) as refused:
        demo.validate_inputs(area, [1])
    assert caller_sees(refused.value) == "/area takes 2 values (Height, Width); got 1."


# 5. Refusals that do not name the input.

INPUTS = {
    "slider": (lambda kind: kind(1, 64, label="Growth rate"), 300),
    "number": (lambda kind: kind(label="Batch size", precision=0), "many"),
    "dropdown": (lambda kind: kind(["imagenet", "cifar"], label="Stem"), "resnet"),
    "radio": (lambda kind: kind(["imagenet", "cifar"], label="Stem"), "resnet"),
}
KINDS = {
    "slider": (gr.Slider, gradio_fixes.Slider),
    "number": (gr.Number, gradio_fixes.Number),
    "dropdown": (gr.Dropdown, gradio_fixes.Dropdown),
    "radio": (gr.Radio, gradio_fixes.Radio),
}
NAMED = {
    "slider": "Growth rate: Value 300 is greater than maximum value 64.",
    "number": "Batch size: 'many' is not a number",
    "dropdown": "Stem: 'resnet' is not one of 'imagenet', 'cifar'",
    "radio": "Stem: 'resnet' is not one of 'imagenet', 'cifar'",
}


def refusal(component, payload) -> str | None:
    with pytest.raises(Exception) as refused:
        component.preprocess(payload)
    return caller_sees(refused.value)


@pytest.mark.parametrize("kind", INPUTS)
def test_gradio_still_refuses_a_value_without_naming_the_input(kind):
    make, payload = INPUTS[kind]
    message = refusal(make(KINDS[kind][0]), payload)
    assert message is None or not message.startswith(make(KINDS[kind][0]).label)


@pytest.mark.parametrize("kind", INPUTS)
def test_a_refused_value_is_named_with_the_inputs_label(kind):
    make, payload = INPUTS[kind]
    assert refusal(make(KINDS[kind][1]), payload) == NAMED[kind]


# 6. Uploads that are not what they claim.


def inline(image: PILImage.Image) -> ImageData:
    png = io.BytesIO()
    image.save(png, "PNG")
    return ImageData(url="data:image/png;base64," + base64.b64encode(png.getvalue()).decode())


DARK_16_BIT_GREY = PILImage.fromarray(np.full((8, 8), 1000, np.uint16))


def test_gradio_still_whitens_a_16_bit_image_sent_inline_and_never_deletes_it():
    image = gr.Image(type="filepath")
    path = image.preprocess(inline(DARK_16_BIT_GREY))
    try:
        assert path.endswith(".webp") and np.asarray(PILImage.open(path)).min() == 255
        assert path not in image.temp_files  # out of the cache cleanup's sight
    finally:
        os.unlink(path)


def test_an_image_sent_inline_is_kept_as_sent_and_deleted_with_the_uploads():
    image = gradio_fixes.Image(type="filepath")
    path = image.preprocess(inline(DARK_16_BIT_GREY))
    try:
        assert path in image.temp_files
        assert np.array_equal(np.asarray(PILImage.open(path)), np.asarray(DARK_16_BIT_GREY))
    finally:
        os.unlink(path)


def test_gradio_still_hides_why_an_upload_that_is_not_an_image_failed(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert refusal(gr.Image(type="filepath"), ImageData(path=str(text))) is None


def test_an_upload_that_is_not_an_image_is_refused_in_one_sentence(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    message = refusal(gradio_fixes.Image(type="filepath"), ImageData(path=str(text)))
    assert message and "\n" not in message and "image" in message
