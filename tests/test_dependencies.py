"""The packages installed are the ones pinned: a Pillow left at the version gradio's cap would
pick (one install step skipped) fails here, not silently in production."""

from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN_FILES = ["requirements.txt", "requirements-overrides.txt", "requirements-dev.txt"]


def requirements() -> list[str]:
    return [line.split("#")[0].strip()
            for name in PIN_FILES for line in (ROOT / name).read_text().splitlines()
            if line.split("#")[0].strip() and not line.startswith("-")]


def test_the_security_relevant_packages_are_pinned():
    named = {requirement.split("==")[0] for requirement in requirements()}
    assert named >= {"gradio", "keras", "pillow", "tensorflow"}


@pytest.mark.parametrize("requirement", requirements())
def test_the_installed_release_is_the_pinned_one(requirement):
    package, _, pinned = requirement.partition("==")
    assert pinned, f"{requirement}: not pinned to one release"
    assert version(package) == pinned
