"""Defects of plain Gradio that only a browser sees, each worked around in `ui/gradio_fixes.py`
(numbered as there). A test failing after an upgrade means upstream fixed the defect: delete
the workaround and its test."""

import threading

import gradio as gr
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def refuse(text):
    raise gr.Error(f"{text} refused", print_exception=False)


@pytest.fixture(scope="module")
def plain_page():
    """A plain Gradio page with two text boxes refusing what is submitted: one through a
    queued event, one through an unqueued event (`queue=False`); `called` is set once the
    unqueued one has run."""
    called = threading.Event()

    def refuse_unqueued(text):
        called.set()
        refuse(text)

    with gr.Blocks() as demo:
        queued = gr.Textbox(label="Queued")
        unqueued = gr.Textbox(label="Unqueued")
        queued.submit(refuse, queued, None)
        unqueued.submit(refuse_unqueued, unqueued, None, queue=False)
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        yield demo.local_url, called
    finally:
        demo.close()


def test_gradio_still_shows_no_error_of_an_unqueued_event(browser, plain_page):
    """7. Errors of unqueued events: Explore's page events check their values themselves."""
    url, called = plain_page
    page = browser.new_page()
    try:
        page.goto(url)
        page.get_by_label("Unqueued", exact=True).fill("first")
        page.get_by_label("Unqueued", exact=True).press("Enter")
        assert called.wait(30)
        page.get_by_label("Queued", exact=True).fill("second")
        page.get_by_label("Queued", exact=True).press("Enter")
        toasts = page.get_by_test_id("toast-body")
        expect(toasts.filter(has_text="second refused")).to_be_visible()  # a queued one's is
        expect(toasts.filter(has_text="first refused")).to_have_count(0)
    finally:
        page.close()
