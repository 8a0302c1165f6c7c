"""The packages installed are the ones pinned: a Pillow left at the version gradio's cap would
pick (one install step skipped) fails here, and the app says so in its log."""

import pytest

from densenet_demo.dependencies import installed_version, override_warnings, pins

from support import ROOT

PIN_FILES = ["requirements.txt", "requirements-overrides.txt", "requirements-dev.txt"]
PINS = [pin for name in PIN_FILES for pin in pins(ROOT / name)]


def test_the_security_relevant_packages_are_pinned():
    assert {package for package, _ in PINS} >= {"gradio", "keras", "pillow", "tensorflow"}


@pytest.mark.parametrize("package, pinned", PINS, ids=[package for package, _ in PINS])
def test_the_installed_release_is_the_pinned_one(package, pinned):
    assert pinned, f"{package}: not pinned to one release"
    assert installed_version(package) == pinned


def test_the_app_warns_when_a_security_pin_is_not_installed(tmp_path):
    assert override_warnings() == []  # this environment has them
    overrides = tmp_path / "requirements-overrides.txt"
    overrides.write_text(
        "# why\n-r requirements.txt\npillow==0.1  # a note\nno-such-package==1.0\n"
    )
    assert override_warnings(overrides) == [
        f"pillow {installed_version('pillow')} is installed, not 0.1: run pip install -r "
        "requirements-overrides.txt (it says why).",
        "no-such-package is not installed, not 1.0: run pip install -r "
        "requirements-overrides.txt (it says why).",
    ]


def test_pins_read_extras_markers_comments_and_options_as_pip_does(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# a comment\n"
        "-r other.txt\n"
        "--index-url https://example.org/simple\n"
        "gradio[mcp]==6.31.0  # the extra is not a package\n"
        "Pillow == 13.0.0\n"
        "keras>=3\n"
        "numpy==2.*\n"
        'tensorflow==2.21.0; python_version < "3"\n'
        "\n"
    )
    assert pins(requirements) == [
        ("gradio", "6.31.0"),
        ("Pillow", "13.0.0"),
        ("keras", ""),
        ("numpy", ""),
    ]
