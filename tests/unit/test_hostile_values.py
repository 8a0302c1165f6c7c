"""Values an attacker sends where the API expects a name, a run id or a number: each refused in
one sentence that names the field and quotes the value cut short, never a Python error."""

from types import SimpleNamespace

import pytest

from densenet_demo.architecture.controls import config_from_controls
from densenet_demo.architecture.presets import PRESETS
from densenet_demo.architecture.share import from_query, read_config
from densenet_demo.inference.runs import is_run_id, run_folder
from densenet_demo.inference.service import ModelRegistry
from densenet_demo.ui.explore_tab import load_link

MILLION_DIGITS = "1" * 10**6


@pytest.mark.parametrize("model", [["fashion"], {"fashion": 1}, {"fashion"}, 7, None])
def test_a_model_that_is_not_a_name_is_refused_naming_the_model_field(model):
    with pytest.raises(ValueError) as refused:
        ModelRegistry().service(model)
    message = str(refused.value)
    assert message.startswith("model=") and "is invalid: allowed fashion" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "run_id",
    [
        "run-٢٠٢٦١٢٠١-٠٩٣٠٠٠-1a2b",  # Arabic-Indic digits
        "run-２０２６１２０１-０９３０００-1a2b",  # fullwidth digits
        "run-20261201-093000-1a2b\n",
    ],
)
def test_a_run_id_takes_ascii_digits_only(run_id):
    assert not is_run_id(run_id)
    with pytest.raises(ValueError, match="is not a run id"):
        run_folder(run_id)


def test_an_ascii_run_id_is_still_a_run_id():
    assert is_run_id("run-20261201-093000-1a2b")


@pytest.mark.parametrize("field", ["growth_rate", "compression", "num_classes", "dropout_rate"])
def test_a_million_digit_number_in_a_link_is_quoted_cut_short_not_as_inf(field):
    with pytest.raises(ValueError) as refused:
        from_query({field: MILLION_DIGITS})
    message = str(refused.value)
    assert message.startswith(f"{field}='1111")
    assert "inf" not in message
    assert len(message) < 300


def test_a_million_digit_number_in_a_pasted_link_is_refused_in_one_short_sentence():
    with pytest.raises(ValueError) as refused:
        read_config(f"?preset=fashion&growth_rate={MILLION_DIGITS}", "link")
    assert "growth_rate='1111" in str(refused.value) and len(str(refused.value)) < 300


def test_numbers_in_a_link_still_read_as_before():
    config = from_query({"growth_rate": "24", "compression": "0.25", "dropout_rate": "1e-1"})
    assert (config.growth_rate, config.compression, config.dropout_rate) == (24, 0.25, 0.1)


def test_a_refused_link_says_which_value_in_what_the_caller_gets_back():
    request = SimpleNamespace(query_params={"preset": "article", "growth_rate": "x"})
    values = load_link(request)
    assert config_from_controls(values) == PRESETS["article"]  # the page's fallback, as before
    first_line = values["headline"].splitlines()[0]
    assert "The link's configuration was not used" in first_line
    assert "growth_rate='x'" in first_line


def test_a_good_link_has_no_refusal_in_its_headline():
    request = SimpleNamespace(query_params={"preset": "article", "growth_rate": "12"})
    assert "was not used" not in load_link(request)["headline"]
