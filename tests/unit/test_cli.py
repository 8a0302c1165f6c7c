"""`python -m densenet_demo summary` prints the same figures as the summary, and errors cleanly."""

import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
import sys

import pytest

from densenet_demo import PRESETS, summarize
from densenet_demo.architecture.controls import CONTROLS, MEMORY_CONTROLS
from densenet_demo.architecture.report import headline
from densenet_demo.architecture.training_memory import (
    GIB,
    MEMORY_ACCOUNT,
    largest_batch,
    training_memory,
)
from densenet_demo.cli import build_parser, main
from densenet_demo.training.budget import BUDGET_CONTROLS, Budget
from densenet_demo.training.trainer import TrainSettings

from support import ROOT, run_cli, with_mirror_average


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


def test_evaluate_reproduces_the_cards_test_accuracy(tiny_weights_dir, capsys):
    assert main(["evaluate", str(tiny_weights_dir / "fashion.weights.h5")]) == 0
    assert "on 10,000 images" in capsys.readouterr().out


def test_evaluate_predicts_as_the_cards_mirror_average_says(tiny_weights_dir, tmp_path, capsys):
    card = json.loads((tiny_weights_dir / "fashion.json").read_text())
    toggled = not card["mirror_average"]["used"]
    folder = with_mirror_average(tiny_weights_dir, tmp_path / "w", toggled)
    assert main(["evaluate", "fashion", "--weights-dir", str(folder)]) == 1
    assert "DOES NOT MATCH" in capsys.readouterr().out


def test_evaluate_as_photos_prints_the_upload_paths_accuracy(tiny_weights_dir, capsys):
    assert main(["evaluate", str(tiny_weights_dir / "fashion.weights.h5"), "--as-photos"]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    match = re.fullmatch(
        r"as photos \(.*\): test accuracy ([\d.]+)%; the same class as the array for ([\d.]+)%",
        line,
    )
    assert match and all(0 < float(share) <= 100 for share in match.groups())


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


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["summary", "--growth-rate", "0"],
            "error: growth_rate=0 is invalid: allowed an integer from 1 to 256\n",
        ),
        (["summary", "--memory-gib", "0"], "error: memory_gib=0.0 is invalid: allowed a number"),
        (
            ["summary", "--batch-size", "0"],
            "error: batch_size=0 is invalid: allowed an integer from 1 to 4,096\n",
        ),
        (
            ["summary", "--config", "no-such-file.json"],
            "error: --config 'no-such-file.json' is not a file, JSON or a share link: give a "
            "JSON file (e.g. the Explore tab's download), a JSON object or a link\n",
        ),
        (
            ["summary", "--config", '{"growth_rate": 0}'],
            "error: --config: growth_rate=0 is invalid",
        ),
        (
            ["train", "--preset", "densenet121", "--epochs", "1"],
            "error: this configuration cannot train on Fashion-MNIST: input_shape=(28, 28, 1) is "
            "invalid: allowed height and width of at least 29 px for the 'imagenet' stem and 4 "
            "dense blocks\n",
        ),
        (["train", "--epochs", "0"], "argument --epochs: epochs=0 is invalid: allowed an integer"),
        (["train", "--seed", "x"], "argument --seed: seed='x' is invalid: allowed an integer"),
        (["predict", "a.png", "--top-k", "2.5"], "argument --top-k: top_k='2.5' is invalid"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_a_bad_option_is_refused_in_one_line_with_exit_status_2(args, message, capsys):
    """Checked values say so in one line (argparse's own usage line aside) and exit 2."""
    try:
        status = main(args)
    except SystemExit as exit:  # refused while parsing
        status = exit.code
    error = capsys.readouterr().err
    assert status == 2
    if message.startswith("error: "):  # refused by the command: one line (exactly, with "\n")
        assert error.startswith(message) and error.count("\n") == 1
    else:
        assert message in error


def test_a_bad_option_ends_the_installed_command_before_the_model_loads():
    """Through `python -m densenet_demo`, as a user runs it: exit status 2, nothing loaded."""
    result = run_cli("predict", "examples/fashion/bag-18.png", "--top-k", "0")
    assert result.returncode == 2
    assert "argument --top-k: top_k=0 is invalid: allowed an integer of at least 1" in result.stderr
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


def subparser(command: str):
    return build_parser()._subparsers._group_actions[0].choices[command]


def options(command: str) -> dict:
    """The command's options by destination (the first of each)."""
    found = {}
    for action in subparser(command)._actions:
        found.setdefault(action.dest, action)
    return found


def test_every_summary_option_is_described():
    undocumented = [action.dest for action in subparser("summary")._actions if not action.help]
    assert undocumented == []


@pytest.mark.parametrize("command", ["summary", "train"])
def test_each_config_field_has_an_option_described_as_its_explore_control(command):
    found = options(command)
    for control in CONTROLS:
        if control.field is not None:
            assert control.label in found[control.field].help, control.name
    for control in MEMORY_CONTROLS if command == "summary" else ():
        assert found[control.name].help.startswith(control.label)
        assert found[control.name].default == control.default


def test_train_options_are_the_budgets_with_the_trainers_defaults():
    found = options("train")
    for control, field in zip(BUDGET_CONTROLS, Budget._fields, strict=True):
        assert found[field].help.startswith(control.label)
        assert found[field].default == getattr(TrainSettings, field)
    args = build_parser().parse_args(["train", "--train-limit", "128", "--learning-rate", "0.05"])
    assert (args.train_images, args.learning_rate) == (128, 0.05)


def test_a_transition_width_of_zero_means_compression_as_on_the_page(capsys):
    assert main(["summary", "--preset", "article", "--transition-features", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["transition_features"] is None


def test_config_reads_the_explore_download_a_json_object_or_a_link(tmp_path, capsys):
    from densenet_demo.architecture.share import config_json, to_query

    config = dataclasses.replace(PRESETS["fashion"], growth_rate=20, block_layers=(4, 4, 4))
    download = tmp_path / "densenet-custom.json"
    download.write_text(config_json(config))
    expected = summarize(config).total_params
    for given in (str(download), config_json(config), "http://x/?" + to_query(config)):
        assert main(["summary", "--config", given, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["total_params"] == expected
    # Options still change what --config gives.
    assert main(["summary", "--config", str(download), "--growth-rate", "12", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["growth_rate"] == 12


@pytest.mark.slow  # trains a tiny model for one short epoch
def test_train_fits_any_configuration_to_fashion_mnist(tmp_path):
    explored = {"input_shape": [32, 32, 3], "num_classes": 5, "stem": "cifar"}
    explored |= {"growth_rate": 4, "block_layers": [1, 1], "init_features": 8}
    result = run_cli(
        "train", "--config", json.dumps(explored), "--epochs", "1", "--train-limit", "128",
        "--batch-size", "64", "--validation-size", "64", "--no-xla",
        "--run-dir", str(tmp_path / "run"), "--weights-dir", str(tmp_path / "weights"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(
        "training on Fashion-MNIST: input 28x28x1 and 10 classes in place of the configuration's"
    )
    config = json.loads((tmp_path / "weights" / "densenet-custom.json").read_text())["config"]
    assert (config["input_shape"], config["num_classes"]) == ([28, 28, 1], 10)
    architecture = ("stem", "growth_rate", "block_layers", "init_features")
    assert [config[key] for key in architecture] == ["cifar", 4, [1, 1], 8]
    # Not a terminal: one clean line per epoch, none of Keras' per-step bar or escape codes.
    [epoch_line] = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert re.fullmatch(r"epoch 1/1: loss [\d.]+, accuracy [\d.]+, val_loss [\d.]+, "
                        r"val_accuracy [\d.]+ \(\d+ img/s\); done", epoch_line)  # fmt: skip
    assert "\x1b" not in result.stdout and "\b" not in result.stdout
    card = json.loads((tmp_path / "weights" / "densenet-custom.json").read_text())
    mirror = "with" if card["mirror_average"]["used"] else "without"
    assert result.stdout.splitlines()[-1] == (
        f"validation accuracy {card['mirror_average']['accuracy_alone']:.2%} alone, "
        f"{card['mirror_average']['accuracy_averaged']:.2%} averaged with the mirror image: test "
        f"accuracy {card['test_accuracy']:.2%} on 10,000 images, predicted {mirror} it"
    )
