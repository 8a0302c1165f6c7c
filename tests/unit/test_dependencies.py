"""The packages installed are the ones pinned: a Pillow left at the version gradio's cap would
pick (one install step skipped) fails here, and the app says so in its log."""

import pytest

from densenet_demo.ui.hosting import installed_version, override_warnings, pins

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
