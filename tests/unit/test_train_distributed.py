"""With several devices, training runs through tf.distribute.MirroredStrategy."""

import json
import subprocess
import sys

import pytest

from support import ROOT

pytestmark = pytest.mark.slow  # a training run in a child process

SCRIPT = """
import dataclasses, json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
from densenet_demo import PRESETS
from densenet_demo.training.trainer import TrainSettings, train
config = dataclasses.replace(PRESETS["fashion"], block_layers=(1, 1), growth_rate=4,
                             init_features=8)
settings = TrainSettings(name="tiny", epochs=1, batch_size=64, train_images=256,
                         validation_size=128)
model, meta = train(config, settings, sys.argv[1])
print(json.dumps({"epochs_done": meta["epochs_done"],
                  "variable_type": type(model.weights[0].value).__name__}))
"""


def test_training_mirrors_across_two_logical_cpus(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "run")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "training on 2 device(s)" in result.stdout
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["epochs_done"] == 1
    assert report["variable_type"] == "MirroredVariable"
