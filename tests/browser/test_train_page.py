"""The Train tab in a real browser: a short run trained from the page, followed live, listed
with the saved runs, and used in Classify; and a run cancelled from the page.

The app runs in a server of this module's own, so that its runs folder starts empty. A run of
5,000 images and one epoch trains the small variant of Explore's default configuration (it
cannot take 28x28 pictures): about a minute on a loaded 2-core machine.
"""

import re

import pytest
from playwright.sync_api import expect
from test_page import ARTIFACTS, component, fits_the_width, opened

from densenet_demo.architecture.report import count
from densenet_demo.training.data import CLASS_NAMES

from support import launch_app, stop

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

TRAINING_MS = 6 * 60_000  # a worker's start, one epoch and the test set, on a loaded machine
RUN_ID = re.compile(r"run-\d{8}-\d{6}-[0-9a-f]{4}")

# True once the status line shows a training step and the progress bar has moved past 0 (polled
# at every frame: a step's line lasts about a second).
TRAINING_SHOWN = """(epochs) => {
    const status = document.querySelector('#train-status');
    const bar = document.querySelector('#train-progress [role=progressbar]');
    return Boolean(status && bar)
        && new RegExp(`Epoch 1/${epochs} · step \\\\d+/\\\\d+`).test(status.textContent)
        && Number(bar.getAttribute('aria-valuenow')) > 0;
}"""

# True once the trace `name` (any trace: null) of the Plotly chart under the Gradio label
# `label` has `count` points (null: any number but none).
PLOTS_POINTS = """([label, name, count]) => {
    const block = [...document.querySelectorAll('.block')].find(b =>
        [...b.querySelectorAll('[data-testid=block-label]')].some(
            l => l.textContent.trim() === label));
    const plot = block && block.querySelector('.js-plotly-plot');
    return (plot && plot.data || []).some(trace =>
        (name === null || trace.name === name) && (count === null
            ? (trace.x || []).length > 0 : (trace.x || []).length === count));
}"""


@pytest.fixture(scope="module")
def train_app_url(tmp_path_factory):
    """The app as shipped, its runs folder empty."""
    process, url = launch_app(tmp_path_factory.mktemp("train-app"))
    yield url
    stop(process)


def open_train_tab(page, url, epochs):
    """The Train tab with 5,000 training images and `epochs` epochs chosen."""
    page.goto(url)
    page.get_by_role("tab", name="Train").click()
    page.get_by_role("radio", name="5,000", exact=True).check()
    field = page.get_by_role("spinbutton", name="Epochs")
    field.fill(str(epochs))
    field.press("Enter")
    # The plan says what a click will train: the budget has reached the server.
    expect(page.locator("#train-plan")).to_contain_text(f"5,000 images × {count(epochs, 'epoch')}")


def run_rows(page, run_id):
    """The rows of the runs table that name `run_id` (its label is not a block label)."""
    table = page.locator(".block").filter(
        has=page.get_by_text("Saved runs, newest first", exact=True)
    )
    return table.get_by_role("row").filter(has_text=run_id)


def screenshot(page, name):
    """A full-page screenshot once no update is pending (a pending one greys its block)."""
    page.wait_for_function("() => !document.querySelector('.pending')")
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def train_buttons(page):
    return [page.get_by_role("button", name=name, exact=True) for name in ("Train", "Cancel")]


def test_a_run_trained_from_the_page_is_followed_listed_and_classifies(train_app_url, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with opened(browser, 1280, 900) as page:
        open_train_tab(page, train_app_url, epochs=1)
        train, cancel = train_buttons(page)
        expect(cancel).to_be_disabled()
        train.click()
        expect(train).to_be_disabled()
        expect(cancel).to_be_enabled()

        page.wait_for_function(TRAINING_SHOWN, arg=1, timeout=TRAINING_MS)
        page.wait_for_function(
            PLOTS_POINTS, arg=["Training curves (live)", None, None], timeout=TRAINING_MS
        )
        page.screenshot(path=ARTIFACTS / "train-while-training-1280px.png", full_page=True)

        status = page.locator("#train-status")
        expect(status).to_contain_text("Done after 1 epoch:", timeout=TRAINING_MS)
        run_id = RUN_ID.search(status.inner_text()).group()
        expect(page.locator("#train-progress [role=progressbar]")).to_have_attribute(
            "aria-valuenow", "100"
        )
        expect(train).to_be_enabled()
        expect(cancel).to_be_disabled()

        # Listed: a row of the runs table, a point of each scatter, the run menu's choice.
        expect(run_rows(page, run_id)).to_have_count(1)
        for label in (
            "Validation accuracy against parameters",
            "Validation accuracy against MACs",
        ):
            page.wait_for_function(PLOTS_POINTS, arg=[label, "runs", 1])
        expect(page.get_by_role("combobox", name="Run", exact=True)).to_have_value(
            re.compile(rf"^{run_id}")
        )
        screenshot(page, "train-after-run-1280px.png")

        # Used in Classify: chosen in its menu, described, and classifying an example.
        page.get_by_role("button", name="Classify with this run").click()
        expect(page.get_by_role("tab", name="Classify")).to_have_attribute("aria-selected", "true")
        expect(page.get_by_role("combobox", name="Model")).to_have_value(f"Run {run_id}")
        expect(page.get_by_text(f"The model is run {run_id} of the Train tab")).to_be_visible()
        page.locator("button.gallery-item:visible").first.click()
        top_classes = component(page, "Top-k classes")
        expect(top_classes.locator("dt")).to_have_count(5)
        expect(top_classes.get_by_test_id("label-output-value")).to_have_text(
            re.compile("^(" + "|".join(map(re.escape, CLASS_NAMES)) + ")$")
        )
        screenshot(page, "train-classify-with-run-1280px.png")

    with opened(browser, 390, 844) as phone:
        phone.goto(train_app_url)
        phone.get_by_role("tab", name="Train").click()
        expect(run_rows(phone, run_id)).to_have_count(1)
        phone.wait_for_function(
            PLOTS_POINTS, arg=["Validation accuracy against parameters", "runs", 1]
        )
        assert fits_the_width(phone)
        screenshot(phone, "train-after-run-390px.png")


def test_a_run_cancelled_from_the_page_says_so_and_train_is_enabled_again(train_app_url, browser):
    with opened(browser, 1280, 900) as page:
        open_train_tab(page, train_app_url, epochs=20)
        train, cancel = train_buttons(page)
        train.click()
        page.wait_for_function(TRAINING_SHOWN, arg=20, timeout=TRAINING_MS)
        cancel.click()

        status = page.locator("#train-status")
        # Within the first epoch nothing is kept; past it, the epochs done are saved.
        expect(status).to_contain_text(
            re.compile(
                r"Cancelled before the first epoch ended: nothing was saved"
                r"|Stopped after \d+ epoch\(s\)"
            ),
            timeout=TRAINING_MS,
        )
        expect(train).to_be_enabled()
        expect(cancel).to_be_disabled()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        screenshot(page, "train-cancelled-1280px.png")
