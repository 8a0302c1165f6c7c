"""The export cache (ui/exports.py): every file the page hands out counts against one byte
cap (DENSENET_EXPORT_CACHE_MB), and the least recently used go first."""

import dataclasses
from pathlib import Path

import pytest

from densenet_demo import PRESETS
from densenet_demo.ui import exports, hosting

BASE = PRESETS["densenet201"]  # a layer table of ~50 KB
CAP_MB = 1


@pytest.fixture(autouse=True)
def gradio_cache(tmp_path, monkeypatch):
    """Gradio's cache folder in a folder of the test's, the export cache capped at 1 MB."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    monkeypatch.setenv(hosting.EXPORT_CACHE_VARIABLE, str(CAP_MB))
    return tmp_path


def configs(count):
    """`count` distinct configurations, each with its own layer table."""
    return [dataclasses.replace(BASE, growth_rate=4 + index) for index in range(count)]


def kept_files(cache):
    return [path for path in (cache / "exports").glob("*/*") if not path.name.startswith(".")]


def bytes_kept(cache):
    return sum(path.stat().st_size for path in kept_files(cache))


def test_many_exports_never_hold_more_than_the_cap(gradio_cache):
    cap = hosting.export_cache_bytes()
    assert cap == CAP_MB * 2**20
    written = 0
    for config in configs(60):
        for export in (exports.layer_table_file, exports.config_file, exports.code_file):
            path = export(config)
            written += Path(path).stat().st_size
            assert bytes_kept(gradio_cache) <= cap
    assert written > 2 * cap  # the cap was really reached, more than once
    # Each file goes with its folder: none is left empty.
    folders = list((gradio_cache / "exports").iterdir())
    assert len(folders) == len(kept_files(gradio_cache))


def test_the_least_recently_used_file_goes_first(gradio_cache):
    first, second, *others = configs(40)
    kept = exports.layer_table_file(first)
    dropped = exports.layer_table_file(second)
    for config in others:
        # The first is asked for again after each new file: it stays the most recently used.
        assert exports.layer_table_file(first) == kept
        exports.layer_table_file(config)
    assert bytes_kept(gradio_cache) <= hosting.export_cache_bytes()
    assert Path(kept).exists()
    assert not Path(dropped).exists()


@pytest.mark.slow
def test_the_newest_file_is_kept_even_above_the_cap(gradio_cache):
    """A built model larger than the whole cap is still handed out; everything else goes."""
    import keras

    small = exports.config_file(BASE)
    model = keras.Sequential([keras.Input((600,)), keras.layers.Dense(600)])  # 1.4 MB
    large = exports.model_file(model, BASE)
    assert [str(path) for path in kept_files(gradio_cache)] == [large]
    assert bytes_kept(gradio_cache) > hosting.export_cache_bytes()
    assert not Path(small).parent.exists()


def test_a_file_being_downloaded_is_read_to_its_end_though_evicted(gradio_cache):
    served = exports.layer_table_file(BASE)
    expected = Path(served).read_bytes()
    with open(served, "rb") as download:  # as Gradio's FileResponse holds it while sending
        first = download.read(100)
        for config in configs(40):
            exports.layer_table_file(config)
        assert bytes_kept(gradio_cache) <= hosting.export_cache_bytes()
        assert first + download.read() == expected


def test_the_cap_defaults_to_500_mb_and_refuses_nonsense(monkeypatch):
    monkeypatch.delenv(hosting.EXPORT_CACHE_VARIABLE)
    assert hosting.export_cache_bytes() == 500 * 2**20
    for nonsense in ["0", "-5", "1.5", "lots"]:
        monkeypatch.setenv(hosting.EXPORT_CACHE_VARIABLE, nonsense)
        with pytest.raises(SystemExit, match="DENSENET_EXPORT_CACHE_MB must be a whole number"):
            hosting.export_cache_bytes()
