"""Across machines, training runs through MultiWorkerMirroredStrategy: `python -m densenet_demo
train` started on each machine with a `TF_CONFIG` naming them all. Here two workers run as two
local processes on loopback ports."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from densenet_demo.training.distribute import cluster_size

from support import ROOT

ARCHITECTURE = {"block_layers": [1, 1], "growth_rate": 4, "init_features": 8}
SETTINGS = {"epochs": 2, "batch_size": 64, "train_images": 256, "validation_size": 128}
NAME = "tiny"
HANG_GUARD_S = 600  # a cluster that has not finished by then is hung: its workers are killed
ENVIRONMENT = {
    **{name: value for name, value in os.environ.items() if name != "TF_CONFIG"},
    "TF_CPP_MIN_LOG_LEVEL": "2",
}

# The same run on one machine with two devices (two logical CPUs), as test_train_distributed.py.
ONE_MACHINE = """
import dataclasses, json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
from densenet_demo import PRESETS
from densenet_demo.training.trainer import TrainSettings, train
architecture, settings = json.loads(sys.argv[2])
architecture["block_layers"] = tuple(architecture["block_layers"])
config = dataclasses.replace(PRESETS["fashion"], **architecture)
train(config, TrainSettings(name=sys.argv[3], **settings), sys.argv[1])
"""


def command_line_options(values: dict) -> list[str]:
    """{"block_layers": [1, 1]} -> ["--block-layers", "1,1"]: the CLI's spelling."""
    options = []
    for name, value in values.items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        options += [f"--{name.replace('_', '-')}", text]
    return options


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (all held open at once while chosen)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def saved_arrays(run_dir) -> dict[str, np.ndarray]:
    with np.load(run_dir / "state.npz") as state:
        return {name: state[name] for name in state.files}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two workers' train commands, started together; (folder, exit codes, logs). A worker still
    running after HANG_GUARD_S is killed and its code is None."""
    folder = tmp_path_factory.mktemp("two-workers")
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    command = [sys.executable, "-m", "densenet_demo", "train", "--name", NAME]
    command += command_line_options({**ARCHITECTURE, **SETTINGS})
    command += ["--run-dir", str(folder / "run"), "--weights-dir", str(folder / "weights")]
    logs = [folder / f"worker-{index}.log" for index in range(2)]
    workers = []
    with contextlib.ExitStack() as stack:
        for index, log in enumerate(logs):
            task = {"type": "worker", "index": index}
            tf_config = json.dumps({"cluster": {"worker": addresses}, "task": task})
            workers.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env={**ENVIRONMENT, "TF_CONFIG": tf_config},
                    stdout=stack.enter_context(open(log, "w")),  # a file: a full pipe stalls
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + HANG_GUARD_S
        codes = []
        for worker in workers:
            try:
                codes.append(worker.wait(timeout=max(1.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                codes.append(None)
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return folder, codes, [log.read_text() for log in logs]


@pytest.fixture(scope="module")
def one_machine_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("one-machine") / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            ONE_MACHINE,
            str(run_dir),
            json.dumps([ARCHITECTURE, SETTINGS]),
            NAME,
        ],
        cwd=ROOT,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


@pytest.mark.slow
def test_both_workers_finish_training_as_one_two_device_cluster(cluster):
    folder, codes, logs = cluster
    assert codes == [0, 0], "\n\n".join(log[-3000:] for log in logs)
    for log in logs:
        assert "training on 2 device(s)" in log
        assert f"epoch {SETTINGS['epochs']}/{SETTINGS['epochs']}" in log


@pytest.mark.slow
def test_the_chief_writes_the_run_and_the_model_the_other_worker_its_own_checkpoint(cluster):
    folder, codes, logs = cluster
    assert codes == [0, 0], "\n\n".join(log[-3000:] for log in logs)
    progress = json.loads((folder / "run" / "progress.json").read_text())
    assert progress["epochs_done"] == SETTINGS["epochs"]
    assert f"wrote {folder / 'weights' / NAME}.weights.h5" in logs[0]
    assert "the chief exports the model" in logs[1] and "wrote" not in logs[1]
    other = json.loads((folder / "run" / "worker-1" / "progress.json").read_text())
    assert other["epochs_done"] == SETTINGS["epochs"]


@pytest.mark.slow
def test_workers_end_with_the_same_trained_weights_and_optimizer_state(cluster):
    import dataclasses

    from densenet_demo import PRESETS
    from densenet_demo.architecture.keras_model import build_model

    folder, codes, logs = cluster
    assert codes == [0, 0], "\n\n".join(log[-3000:] for log in logs)
    chief, other = saved_arrays(folder / "run"), saved_arrays(folder / "run" / "worker-1")
    architecture = {**ARCHITECTURE, "block_layers": tuple(ARCHITECTURE["block_layers"])}
    model = build_model(dataclasses.replace(PRESETS["fashion"], **architecture))
    # BatchNorm's moving statistics are each replica's own in Keras 3: not compared.
    compared = [f"model_{i}" for i, weight in enumerate(model.weights) if weight.trainable]
    compared += [name for name in chief if name.startswith("optimizer_")]
    assert len(compared) > len(model.trainable_weights)  # the optimizer's state is in
    for name in compared:
        np.testing.assert_array_equal(chief[name], other[name], err_msg=name)


@pytest.mark.slow
def test_two_workers_train_what_one_machine_with_two_devices_trains(cluster, one_machine_run):
    """Each worker keeps its own slice of every global batch, as each device does on one
    machine: the chief's checkpoint is the first device's, up to float rounding."""
    folder, codes, logs = cluster
    assert codes == [0, 0], "\n\n".join(log[-3000:] for log in logs)
    chief, reference = saved_arrays(folder / "run"), saved_arrays(one_machine_run)
    assert chief.keys() == reference.keys()
    for name, expected in reference.items():
        np.testing.assert_allclose(chief[name], expected, rtol=0, atol=1e-5, err_msg=name)


@pytest.mark.slow
def test_the_chief_card_holds_the_test_figures_of_its_weights_file(cluster):
    folder, codes, logs = cluster
    assert codes == [0, 0], "\n\n".join(log[-3000:] for log in logs)
    weights = folder / "weights" / f"{NAME}.weights.h5"
    result = subprocess.run(
        [sys.executable, "-m", "densenet_demo", "evaluate", str(weights)],
        cwd=ROOT,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert ": matches" in result.stdout


def test_tf_config_counts_the_machines_of_its_cluster():
    workers = {"worker": ["a:1", "b:1", "c:1"]}
    assert cluster_size("") == 0
    assert (
        cluster_size(json.dumps({"cluster": workers, "task": {"type": "worker", "index": 2}})) == 3
    )
    with_chief = {"chief": ["a:1"], "worker": ["b:1"]}
    assert (
        cluster_size(json.dumps({"cluster": with_chief, "task": {"type": "chief", "index": 0}}))
        == 2
    )


@pytest.mark.parametrize(
    "tf_config, message",
    [
        ("worker-0", "is not of the form"),
        ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "is not of the form"),
        ('{"cluster": {"worker": ["a:1", "b:1"]}}', "is not in its cluster"),
        (
            '{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}}',
            '"worker" with index 0 to 1',
        ),
    ],
)
def test_a_malformed_tf_config_is_refused_in_one_line(tf_config, message):
    with pytest.raises(ValueError, match=message) as error:
        cluster_size(tf_config)
    assert "TF_CONFIG" in str(error.value) and "\n" not in str(error.value)
