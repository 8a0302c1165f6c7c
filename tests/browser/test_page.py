"""The page in a real browser: Playwright driving Debian's Chromium against the running app.

Browsers cannot be downloaded here, so Playwright is pointed at /usr/bin/chromium (Debian's
`chromium` package, which the README's test command installs). Each test leaves a screenshot
in $TEST_ARTIFACTS_DIR (default: test-artifacts/ at the repository root).
"""

import contextlib
import dataclasses
import json
import os
import re
from pathlib import Path

import pytest

from densenet_demo.architecture.compare import compare_figures, ratio_text, signed_difference
from densenet_demo.architecture.config import DenseNetConfig
from densenet_demo.architecture.presets import PRESETS
from densenet_demo.architecture.report import headline
from densenet_demo.architecture.summary import DEFAULT_BATCH_SIZE, summarize
from densenet_demo.inference.image_file import UNREADABLE_IMAGE
from densenet_demo.inference.service import MODELS
from densenet_demo.training.data import CLASS_NAMES
from densenet_demo.ui.explore_charts import channel_growth_figure

from support import CHROMIUM, EXAMPLE, EXAMPLES, ROOT

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR") or ROOT / "test-artifacts")
TIMEOUT_MS = 60_000  # a loaded 2-core machine: the app's first answers can take seconds

# True once the Plotly chart under the Gradio label `label` plots the y values `expected`.
CHART_SHOWS = """([label, expected]) => {
    const block = [...document.querySelectorAll('.block')].find(b =>
        [...b.querySelectorAll('[data-testid=block-label]')].some(
            l => l.textContent.trim() === label));
    const plot = block && block.querySelector('.js-plotly-plot');
    return Boolean(plot && plot.data) && JSON.stringify(
        plot.data.map(trace => Array.from(trace.y))) === JSON.stringify(expected);
}"""

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True
    )

from playwright.sync_api import expect  # noqa: E402

expect.set_options(timeout=TIMEOUT_MS)


@contextlib.contextmanager
def opened(browser, width, height):
    """A fresh page of `width` x `height` CSS pixels."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


SIZES = {"desktop": (1400, 1000), "phone": (390, 844)}
ON_BOTH_SIZES = pytest.mark.parametrize("page", list(SIZES), indirect=True)


@pytest.fixture
def page(browser, request):
    """A desktop-sized page, or the size a test asks for (`ON_BOTH_SIZES`); its screenshot is
    saved when the test ends, passed or failed."""
    with opened(browser, *SIZES[getattr(request, "param", "desktop")]) as page:
        yield page
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)


def component(page, label):
    """The Gradio component whose visible label is exactly `label`."""
    return page.locator(".block").filter(
        has=page.get_by_test_id("block-label").filter(
            has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
        )
    )


def headline_value(page, label, column="Value"):
    """The cell of the headline table's row `label` under the header `column`."""
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=label, exact=True))
    # Its position is counted when the locator resolves, so it waits for the table like any other.
    header = f"ancestor::table[1]//th[normalize-space()='{column}']"
    return row.locator(f"xpath=td[{header}][count({header}/preceding-sibling::th) + 1]")


def chart_data(config):
    return [[int(y) for y in trace.y] for trace in channel_growth_figure(summarize(config)).data]


def test_changing_the_growth_rate_updates_the_numbers_and_the_chart(app_url, page):
    densenet121 = PRESETS["densenet121"]
    page.goto(app_url)
    expect(headline_value(page, "Parameters")).to_have_text(
        dict(headline(summarize(densenet121), DEFAULT_BATCH_SIZE))["Parameters"]
    )

    growth_rate = page.get_by_role("spinbutton", name="Growth rate k")
    growth_rate.fill("24")
    growth_rate.press("Enter")

    changed = dataclasses.replace(densenet121, growth_rate=24)
    for label, value in headline(summarize(changed), DEFAULT_BATCH_SIZE):
        expect(headline_value(page, label)).to_have_text(value)
    page.wait_for_function(CHART_SHOWS, arg=["Channel growth", chart_data(changed)])


@ON_BOTH_SIZES
def test_a_refused_value_is_named_beside_the_figures_it_leaves_stale(app_url, page):
    page.goto(app_url)
    parameters = headline_value(page, "Parameters")
    expect(parameters).to_have_text(
        dict(headline(summarize(PRESETS["densenet121"]), DEFAULT_BATCH_SIZE))["Parameters"]
    )
    growth_rate = page.get_by_role("spinbutton", name="Growth rate k")
    growth_rate.fill("0")
    growth_rate.press("Enter")

    refusal = page.locator(".block.refusal")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("Not updated: Growth rate k: Value 0 is less than minimum")
    expect(refusal).to_contain_text("still those of the last valid configuration")
    expect(page.locator(".block.stale").first).to_be_visible()
    width = page.viewport_size["width"]
    page.screenshot(path=ARTIFACTS / f"refused-value-{width}px.png", full_page=True)
    expect(parameters).to_have_text(  # the old figures are kept, not emptied
        dict(headline(summarize(PRESETS["densenet121"]), DEFAULT_BATCH_SIZE))["Parameters"]
    )

    layers = page.get_by_label("Layers per dense block")
    layers.fill("6,,x")
    layers.press("Enter")
    expect(refusal).to_contain_text("block_layers='6,,x' is invalid")

    layers.fill("6, 12, 24, 16")
    layers.press("Enter")
    growth_rate.fill("24")
    growth_rate.press("Enter")
    changed = dataclasses.replace(PRESETS["densenet121"], growth_rate=24)
    expect(parameters).to_have_text(
        dict(headline(summarize(changed), DEFAULT_BATCH_SIZE))["Parameters"]
    )
    expect(refusal).to_be_hidden()
    expect(page.locator(".block.stale")).to_have_count(0)


def plotted(figure):
    """The y values of each trace of a Plotly figure, as CHART_SHOWS reads them."""
    return [[None if y is None else int(y) for y in trace.y] for trace in figure.data]


@ON_BOTH_SIZES
def test_a_pinned_configuration_is_shown_beside_the_changed_one(app_url, page):
    a = PRESETS["densenet121"]
    b = dataclasses.replace(a, growth_rate=24)
    page.goto(app_url)
    expect(headline_value(page, "Parameters")).to_have_text(
        dict(headline(summarize(a), DEFAULT_BATCH_SIZE))["Parameters"]
    )
    page.get_by_role("button", name="Pin as A").click()
    unpin = page.get_by_role("button", name="Unpin A")
    expect(unpin).to_be_visible()
    growth_rate = page.get_by_role("spinbutton", name="Growth rate k")
    growth_rate.fill("24")
    growth_rate.press("Enter")

    # The headline: A, B, B − A and B / A of every figure.
    for pair in compare_figures(summarize(a), summarize(b), DEFAULT_BATCH_SIZE):
        cells = (
            page.get_by_role("row")
            .filter(has=page.get_by_role("cell", name=pair.label, exact=True))
            .get_by_role("cell")
        )
        expect(cells).to_have_text(
            [pair.label, pair.a, pair.b, signed_difference(pair), ratio_text(pair)]
        )
    # The chart: A dashed under B's blocks.
    both = plotted(channel_growth_figure(summarize(b), summarize(a)))
    page.wait_for_function(CHART_SHOWS, arg=["Channel growth", both])
    # The layer table's accordion names the field that changed.
    page.get_by_text("Layer table", exact=True).click()
    expect(page.get_by_text("Fields that differ from A")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="growth_rate")).to_have_text(
        re.compile(r"growth_rate\s*32\s*24")
    )
    width = page.viewport_size["width"]
    # The page's container hides what overflows it, so measure the figures themselves: the
    # five-column table scrolls within them on a phone.
    figures = page.locator("#headline").bounding_box()
    assert fits_the_width(page) and figures["x"] + figures["width"] <= width
    page.screenshot(path=ARTIFACTS / f"compare-{width}px.png", full_page=True)
    # The downloads are B's.
    with page.expect_download() as download:
        page.get_by_role("button", name="Configuration (.json)").click()
    assert download.value.suggested_filename == "densenet-custom.json"
    assert DenseNetConfig.from_dict(json.loads(Path(download.value.path()).read_text())) == b

    unpin.click()
    expect(unpin).to_be_hidden()
    expect(headline_value(page, "Parameters")).to_have_text(
        dict(headline(summarize(b), DEFAULT_BATCH_SIZE))["Parameters"]
    )
    page.wait_for_function(CHART_SHOWS, arg=["Channel growth", chart_data(b)])
    expect(page.get_by_text("Fields that differ from A")).to_be_hidden()


def test_the_built_model_downloads_until_the_configuration_changes(app_url, page):
    import keras

    page.goto(app_url)
    page.get_by_role("combobox", name="Preset").click()
    page.get_by_role("option", name="article").click()
    expect(headline_value(page, "Parameters")).to_have_text(
        dict(headline(summarize(PRESETS["article"]), DEFAULT_BATCH_SIZE))["Parameters"]
    )
    page.get_by_text("Build with Keras", exact=True).click()
    page.get_by_role("button", name="Build the real Keras model and compare").click()
    expect(page.get_by_text("AGREE: Keras count_params()")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "built-model-download.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="The built model, untrained (.keras)").click()
    assert download.value.suggested_filename == "article.keras"
    saved = Path(download.value.path()).with_suffix(".keras")
    download.value.save_as(saved)
    assert (
        keras.saving.load_model(saved).count_params() == summarize(PRESETS["article"]).total_params
    )

    growth_rate = page.get_by_role("spinbutton", name="Growth rate k")
    growth_rate.fill("16")
    growth_rate.press("Enter")  # another configuration: the old model's file goes
    expect(page.get_by_role("button", name="The built model, untrained (.keras)")).to_be_hidden()


def test_an_uploaded_picture_shows_its_top_k_labels(classify_app_url, page):
    page.goto(classify_app_url)
    page.get_by_role("tab", name="Classify").click()
    component(page, "Your picture").locator("input[type=file]").set_input_files(EXAMPLE)

    top_classes = component(page, "Top-k classes")
    labels = top_classes.locator("dt")
    expect(labels).to_have_count(5)  # the k slider starts at 5
    shown = labels.all_inner_texts()
    assert set(shown) <= set(CLASS_NAMES) and len(set(shown)) == 5
    percentages = [int(text.rstrip("%")) for text in top_classes.locator("dd").all_inner_texts()]
    assert percentages == sorted(percentages, reverse=True)
    expect(top_classes.get_by_test_id("label-output-value")).to_have_text(shown[0])


def test_a_file_that_is_not_an_image_shows_the_error_message(classify_app_url, page, tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("this is text, not a picture")
    page.goto(classify_app_url)
    page.get_by_role("tab", name="Classify").click()
    component(page, "Your picture").locator("input[type=file]").set_input_files(fake)

    expect(page.get_by_test_id("toast-body").filter(has_text=UNREADABLE_IMAGE)).to_be_visible()
    expect(page.get_by_test_id("label-output-value")).to_have_count(0)  # no classes shown


def open_classify_with(page, url, picture):
    page.goto(url)
    page.get_by_role("tab", name="Classify").click()
    component(page, "Your picture").locator("input[type=file]").set_input_files(picture)
    expect(component(page, "Top-k classes").locator("dt")).to_have_count(5)


@ON_BOTH_SIZES
def test_an_unavailable_model_is_explained_once_and_the_menu_goes_back(classify_app_url, page):
    """The app runs with DENSENET_OFFLINE=1 and no ImageNet weights."""
    open_classify_with(page, classify_app_url, EXAMPLE)
    menu = page.get_by_role("combobox", name="Model")
    menu.click()
    page.get_by_role("option", name=MODELS["densenet121"]).click()

    note = page.locator(".block.refusal")
    expect(note).to_contain_text(
        "Not available. DenseNet-121 (ImageNet) is unavailable: its weights file is not in"
    )
    expect(note).to_contain_text("put densenet121_weights_tf_dim_ordering_tf_kernels.h5 in")
    expect(menu).to_have_value(MODELS["fashion"])
    expect(component(page, "Top-k classes").locator("dt")).to_have_count(5)  # classified again
    expect(page.get_by_test_id("toast-body")).to_have_count(0)


def heat_map_source(page, label):
    return component(page, label).locator("img").first.get_attribute("src")


@ON_BOTH_SIZES
def test_the_explanation_follows_the_picture_and_the_opacity(classify_app_url, page):
    open_classify_with(page, classify_app_url, EXAMPLE)
    page.get_by_text("Why this class? Grad-CAM").click()
    page.get_by_role("button", name="Show what drove the top class").click()
    expect(page.get_by_text("Grad-CAM for")).to_be_visible()
    expect(component(page, "On your picture").locator("img").first).to_be_visible()
    before = heat_map_source(page, "On your picture")

    opacity = page.get_by_role("spinbutton", name="Heat map opacity")
    opacity.fill("1")
    opacity.press("Enter")
    page.wait_for_function(
        """([label, before]) => {
            const block = [...document.querySelectorAll('.block')].find(b =>
                [...b.querySelectorAll('[data-testid=block-label]')].some(
                    l => l.textContent.trim() === label));
            const image = block && block.querySelector('img');
            return Boolean(image) && image.getAttribute('src') !== before;
        }""",
        arg=["On your picture", before],
    )

    # A new picture: the old explanation goes at once.
    component(page, "Your picture").locator("input[type=file]").set_input_files(EXAMPLES[1])
    expect(page.get_by_text("Grad-CAM for")).to_have_count(0)
    expect(component(page, "On your picture").locator("img")).to_have_count(0)


@pytest.fixture
def phone(browser):
    """A page the size of a phone (390 x 844); its test saves a screenshot of each tab."""
    with opened(browser, 390, 844) as page:
        yield page


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_the_figures_come_first_and_every_tab_fits(classify_app_url, phone):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    phone.goto(classify_app_url)
    parameters = headline_value(phone, "Parameters")
    expect(parameters).to_be_visible()
    preset = phone.get_by_role("combobox", name="Preset")
    assert parameters.bounding_box()["y"] < phone.viewport_size["height"]  # no scrolling
    assert parameters.bounding_box()["y"] < preset.bounding_box()["y"]  # before the controls
    assert fits_the_width(phone)
    phone.screenshot(path=ARTIFACTS / "phone-explore.png", full_page=True)

    phone.get_by_role("tab", name="Classify").click()
    component(phone, "Your picture").locator("input[type=file]").set_input_files(EXAMPLE)
    expect(component(phone, "Top-k classes").locator("dt")).to_have_count(5)
    assert fits_the_width(phone)
    phone.screenshot(path=ARTIFACTS / "phone-classify.png", full_page=True)

    phone.get_by_role("tab", name="Model").click()
    expect(phone.get_by_text("Confusion matrix (red: mistakes)")).to_be_visible()
    assert fits_the_width(phone)
    phone.screenshot(path=ARTIFACTS / "phone-model.png", full_page=True)


# True once the star (the current configuration) of the published-models map is at `expected`.
MAP_STAR_AT = """(expected) => {
    const plot = [...document.querySelectorAll('.js-plotly-plot')].find(p =>
        (p.data || []).some(trace => trace.marker && trace.marker.symbol === 'star'));
    const star = plot && plot.data.find(trace => trace.marker.symbol === 'star');
    return Boolean(star) && star.x[0] === expected[0] && star.y[0] === expected[1];
}"""


@ON_BOTH_SIZES
def test_the_memory_settings_and_the_published_map_follow_the_page(app_url, page):
    densenet121 = summarize(PRESETS["densenet121"])
    page.goto(app_url)
    expect(headline_value(page, "Parameters")).to_have_text(
        dict(headline(densenet121, DEFAULT_BATCH_SIZE))["Parameters"]
    )  # the page's own first views have arrived
    page.get_by_label("Adam").check()
    for label, value in headline(densenet121, DEFAULT_BATCH_SIZE, "adam", 16):
        expect(headline_value(page, label)).to_have_text(value)
    memory = page.get_by_role("combobox", name="Memory size (GiB): largest batch that fits")
    memory.fill("12")  # a size of one's own, beside the menu of GPUs
    memory.press("Enter")
    for label, value in headline(densenet121, DEFAULT_BATCH_SIZE, "adam", 12):
        expect(headline_value(page, label)).to_have_text(value)

    page.get_by_text("Where it lands among published DenseNets").click()
    page.wait_for_function(MAP_STAR_AT, arg=[densenet121.trainable_params, densenet121.macs])
    page.get_by_role("combobox", name="Preset").click()
    page.get_by_role("option", name="densenet-bc-100").click()
    bc100 = summarize(PRESETS["densenet-bc-100"])
    expect(headline_value(page, "Largest batch in 12 GiB (Adam)")).to_have_text(
        dict(headline(bc100, DEFAULT_BATCH_SIZE, "adam", 12))["Largest batch in 12 GiB (Adam)"]
    )
    page.wait_for_function(MAP_STAR_AT, arg=[bc100.trainable_params, bc100.macs])
    page.get_by_text("Where it lands among published DenseNets").scroll_into_view_if_needed()
    assert fits_the_width(page)
