"""`python -m densenet_demo summary` prints the same figures as the summary, and errors cleanly."""

import hashlib
import json
import shutil
import subprocess
import sys

from densenet_demo import PRESETS, summarize
from densenet_demo.architecture.report import headline
from densenet_demo.architecture.training_memory import (
    GIB,
    MEMORY_ACCOUNT,
    largest_batch,
    training_memory,
)
from densenet_demo.cli import main

from support import ROOT, run_cli


def test_summary_prints_the_headline_and_the_stage_table(capsys):
    assert main(["summary", "--preset", "densenet121"]) == 0
    output = capsys.readouterr().out
    assert "Parameters: 8,062,504" in output and "Depth: 121" in output
    assert "transition 3" in output and "conv2_block1_1_conv" not in output


def test_summary_prints_the_pages_training_memory_figures(capsys):
    args = ["--preset", "densenet-bc-100", "--batch-size", "64", "--optimizer", "adam"]
    assert main(["summary", *args, "--memory-gib", "24"]) == 0
    output = capsys.readouterr().out
    for label, value in headline(summarize(PRESETS["densenet-bc-100"]), 64, "adam", 24):
        assert f"{label}: {value}\n" in output
    assert MEMORY_ACCOUNT in output
    assert main(["summary", *args, "--memory-gib", "24", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)["training_memory"]
    summary = summarize(PRESETS["densenet-bc-100"])
    assert printed["largest_batch"]["saved"] == largest_batch(summary, "adam", 24 * GIB)
    assert printed["total_bytes"]["naive"] == training_memory(summary, 64, "adam").total_bytes(
        "naive"
    )


def test_a_bad_memory_size_prints_one_line_and_exits_non_zero():
    result = run_cli("summary", "--memory-gib", "0")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: memory_gib=0.0 is invalid")


def test_options_override_the_preset(capsys):
    assert (
        main(
            [
                "summary",
                "--preset",
                "densenet121",
                "--growth-rate",
                "24",
                "--block-layers",
                "6,12,24,16",
                "--no-bottleneck",
                "--json",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["config"]["growth_rate"] == 24 and printed["config"]["bottleneck"] is False
    expected = summarize(PRESETS["densenet121"].__class__(growth_rate=24, bottleneck=False))
    assert printed["total_params"] == expected.total_params


def test_layers_flag_prints_every_layer(capsys):
    assert main(["summary", "--preset", "article", "--layers"]) == 0
    output = capsys.readouterr().out
    assert "conv3_block4_concat" in output and "153,482" in output


def test_invalid_value_prints_one_line_and_exits_non_zero():
    result = run_cli("summary", "--growth-rate", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: growth_rate=0 is invalid: allowed an integer from 1 to 256"
    )


def test_evaluate_reproduces_the_cards_test_accuracy(tiny_weights_dir, capsys):
    assert main(["evaluate", str(tiny_weights_dir / "fashion.weights.h5")]) == 0
    assert "on 10,000 images" in capsys.readouterr().out


def test_evaluate_reports_a_card_that_does_not_match(tiny_weights_dir, tmp_path, capsys):
    shutil.copytree(tiny_weights_dir, tmp_path / "w")
    card_path = tmp_path / "w" / "fashion.json"
    card = json.loads(card_path.read_text())
    card["test_accuracy"] = card["test_accuracy"] + 0.01
    card_path.write_text(json.dumps(card))
    assert main(["evaluate", "fashion", "--weights-dir", str(tmp_path / "w")]) == 1
    assert "DOES NOT MATCH" in capsys.readouterr().out


def test_convert_writes_the_litert_file_and_names_it_in_the_card(tiny_weights_dir, tmp_path):
    folder = tmp_path / "w"
    shutil.copytree(tiny_weights_dir, folder)
    card_path = folder / "fashion.json"
    card = json.loads(card_path.read_text())
    for field in ("litert_file", "litert_sha256", "feature_reuse"):
        del card[field]
    card_path.write_text(json.dumps(card))
    (folder / "fashion.tflite").unlink()
    assert main(["convert", "fashion", "--weights-dir", str(folder)]) == 0
    converted = json.loads(card_path.read_text())
    digest = hashlib.sha256((folder / "fashion.tflite").read_bytes()).hexdigest()
    assert converted["litert_sha256"] == digest
    assert (
        converted["feature_reuse"]
        == json.loads((tiny_weights_dir / "fashion.json").read_text())["feature_reuse"]
    )


def test_a_bad_top_k_is_refused_before_the_model_loads():
    result = run_cli("predict", "examples/fashion/bag-18.png", "--top-k", "0")
    assert result.returncode == 2
    assert "argument --top-k: '0' is not a whole number of at least 1" in result.stderr
    assert "tensorflow" not in result.stderr.lower()  # nothing was loaded


def test_output_cut_short_by_a_pipe_ends_quietly():
    with subprocess.Popen(
        [sys.executable, "-m", "densenet_demo", "summary", "--preset", "densenet264", "--layers"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        child.stdout.readline()  # `| head -1`
        child.stdout.close()
        error = child.stderr.read().decode()
    assert child.returncode == 0 and "Traceback" not in error and "BrokenPipe" not in error


def test_every_summary_option_is_described():
    from densenet_demo.cli import build_parser

    summary = build_parser()._subparsers._group_actions[0].choices["summary"]
    undocumented = [action.dest for action in summary._actions if not action.help]
    assert undocumented == []
