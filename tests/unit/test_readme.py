"""The README as a front door: short, its links and the docs' links lead somewhere, its
command-line examples run as written, and its test command is the one CI runs.

The examples that run are the lines of each ```bash block right after the comment
`<!-- tested: tests/unit/test_readme.py -->`; each is a `python -m densenet_demo` command."""

import re
import shlex
import subprocess
import sys

import pytest

from support import ROOT

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MAX_README_LINES = 250
TESTED_BLOCK = re.compile(
    r"<!-- tested: tests/unit/test_readme\.py -->\n```bash\n(?P<commands>.*?)^```", re.S | re.M
)
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)\)")
CLI = ["python", "-m", "densenet_demo"]


def readme_examples() -> list[str]:
    blocks = TESTED_BLOCK.findall(README.read_text())
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def anchors(page) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to '-'."""
    headings = re.findall(r"^#+ (.*)$", FENCED.sub("", page.read_text()), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def relative_links(page) -> list[str]:
    text = FENCED.sub("", page.read_text())
    targets = [match["target"] for match in LINK.finditer(text)]
    return [target for target in targets if not re.match(r"[a-z]+:", target)]


def test_the_readme_is_a_front_door_of_at_most_250_lines():
    assert len(README.read_text().splitlines()) <= MAX_README_LINES


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page):
    broken = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        heading_missing = anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        if not linked.exists() or heading_missing:
            broken.append(target)
    assert broken == []


def test_the_readme_has_tested_command_line_examples():
    commands = readme_examples()
    assert len(commands) >= 3
    assert [command for command in commands if shlex.split(command)[:3] != CLI] == []


@pytest.mark.parametrize("command", readme_examples())
def test_a_readme_example_runs_as_written(command):
    arguments = shlex.split(command)[3:]
    result = subprocess.run(
        [sys.executable, "-m", "densenet_demo", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip()


def test_the_readme_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    readme_commands = re.findall(r"^```bash\n(apt-get .*)$", README.read_text(), re.M)
    assert len(readme_commands) == 1
    assert readme_commands[0] in ci.splitlines()
