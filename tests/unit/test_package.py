"""The package as others use it: its public names, what importing it costs, and the rules its
modules keep (the import-layer rules themselves are checked by `lint-imports`)."""

import ast
import subprocess
import sys

from support import ROOT

# namedtuple's public API is spelt with a leading underscore to keep clear of field names.
NAMEDTUPLE_API = {"_fields", "_replace", "_asdict", "_make", "_field_defaults"}
PUBLIC = ["DenseNetConfig", "PRESETS", "PRESET_INFO", "build_model", "load_classifier", "summarize"]


def test_the_public_api_imports_without_gradio_or_tensorflow():
    script = (
        f"import sys\nfrom densenet_demo import {', '.join(PUBLIC)}\n"
        "print(sorted(name for name in ('gradio', 'tensorflow', 'keras')"
        " if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_public_api_builds_and_loads_models():
    import densenet_demo
    from densenet_demo.architecture.keras_model import build_model
    from densenet_demo.inference.classifier import load_classifier

    assert sorted(densenet_demo.__all__) == sorted(PUBLIC)
    assert densenet_demo.build_model is build_model
    assert densenet_demo.load_classifier is load_classifier


# Where a dependency's defect is worked around by patching its own private method, named in
# the module's docstring with the dependency's version.
DEPENDENCY_WORKAROUNDS = {"gradio_fixes.py"}


def _private_uses(path) -> list[str]:
    """Private names (`_x`) this file takes from other modules: imported, or read as an
    attribute of something it imported (a dependency's, only outside the workarounds)."""
    tree = ast.parse(path.read_text(), str(path))
    imported = {}  # name -> whether it comes from this project
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            ours = isinstance(node, ast.ImportFrom) and (
                node.level > 0 or (node.module or "").startswith("densenet_demo")
            )
            for alias in node.names:
                imported[(alias.asname or alias.name).split(".")[0]] = ours or (
                    alias.name.startswith("densenet_demo")
                )
                if alias.name.split(".")[-1].startswith("_") and not (
                    isinstance(node, ast.ImportFrom) and node.module == "__future__"
                ):
                    found.append(f"{path.name}:{node.lineno} imports {alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in imported
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.attr not in NAMEDTUPLE_API
            and (imported[node.value.id] or path.name not in DEPENDENCY_WORKAROUNDS)
        ):
            found.append(f"{path.name}:{node.lineno} reads {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    files = [ROOT / "app.py", *sorted((ROOT / "densenet_demo").rglob("*.py"))]
    assert [use for path in files for use in _private_uses(path)] == []


HEAVY = ("keras", "tensorflow")  # seconds to import: only the slow tests use them


def _heavy_module_imports(path) -> list[str]:
    """Imports of Keras or TensorFlow in a test module's body, run whenever it is collected."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        found += [
            f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
            for name in names
            if name.split(".")[0] in HEAVY
        ]
    return found


def test_collecting_the_tests_does_not_load_keras():
    """The fast loop collects every test module, slow ones included: one that imports Keras
    at the top costs it TensorFlow's start-up (~4 s)."""
    files = sorted((ROOT / "tests").rglob("test_*.py"))
    assert files and [use for path in files for use in _heavy_module_imports(path)] == []
