"""The releases the requirements files pin, and whether this environment has them.

Read with `packaging` (pip's own parser of requirement strings): extras, markers and spacing
are understood, not split by hand.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement

OVERRIDES = Path(__file__).resolve().parents[1] / "requirements-overrides.txt"
# pip's rule: a comment starts at a '#' at the start of a line or after whitespace.
COMMENT = re.compile(r"(^|\s+)#.*$")


def pins(requirements: Path) -> list[tuple[str, str]]:
    """(package, pinned version, or "" when not pinned to one release) for each requirement
    of a pip requirements file that applies here (its environment marker, if any, holds);
    comments and options such as `-r` are skipped. Raises `InvalidRequirement` on a line pip
    would refuse too."""
    found = []
    for line in requirements.read_text().splitlines():
        text = COMMENT.sub("", line).strip()
        if not text or text.startswith("-"):
            continue
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        specifiers = list(requirement.specifier)
        exact = (
            len(specifiers) == 1
            and specifiers[0].operator in ("==", "===")
            and not specifiers[0].version.endswith(".*")
        )
        found.append((requirement.name, specifiers[0].version if exact else ""))
    return found


def installed_version(package: str) -> str | None:
    """The installed release of `package`, or None if it is not installed."""
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def override_warnings(overrides: Path = OVERRIDES) -> list[str]:
    """One line per security pin in requirements-overrides.txt that this environment lacks:
    a host that installs requirements.txt alone (a Space built with `sdk: gradio` does) runs
    the older release, and its log should say so."""
    if not overrides.is_file():  # an installed package: pip resolved its own dependencies
        return []
    lines = []
    for package, pinned in pins(overrides):
        installed = installed_version(package)
        if installed != pinned:
            found = (
                f"{package} {installed} is installed"
                if installed
                else f"{package} is not installed"
            )
            lines.append(
                f"{found}, not {pinned}: run pip install -r {overrides.name} (it says why)."
            )
    return lines
