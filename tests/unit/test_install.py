"""`pip install .` into a fresh virtual environment gives a working `densenet-explorer`, with
the shipped model and example images inside the installed package."""

import json
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from support import EXAMPLE, ROOT

pytestmark = pytest.mark.slow  # builds a wheel and creates a virtual environment


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The `densenet-explorer` command of a fresh venv holding a copy of the repository
    installed with pip (dependencies from this environment: the venv sees its site-packages,
    so nothing large is downloaded)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [venv / "bin" / "pip", "install", "--no-deps", "--quiet", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    see_running_site_packages(venv)  # after pip: its isolated build must not see them
    shutil.rmtree(source)  # the installed package must not lean on the copy
    return venv / "bin" / "densenet-explorer", root


def see_running_site_packages(venv):
    """Let `venv` import what this interpreter imports. Not `--system-site-packages`: that
    shows the base Python's packages, which under a venv (as the README sets up) lack ours.
    A .pth line starting with `import` runs at start-up; `addsitedir` also reads the .pth files
    there, and appends: the venv's own packages still come first."""
    purelib = subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    folders = "; ".join(f"site.addsitedir({folder!r})" for folder in site.getsitepackages())
    (Path(purelib) / "running-python.pth").write_text(f"import site; {folders}\n")


def run(command, cwd, *arguments):
    return subprocess.run(
        [command, *arguments], cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )


def test_the_console_command_summarises_a_densenet(installed):
    command, elsewhere = installed
    result = run(command, elsewhere, "summary", "--preset", "densenet121", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total_params"] == 8_062_504


def test_the_installed_package_classifies_with_its_shipped_model(installed):
    command, elsewhere = installed
    result = run(command, elsewhere, "predict", str(EXAMPLE), "--top-k", "2")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr == ""  # TensorFlow's start-up logs are kept off the terminal
