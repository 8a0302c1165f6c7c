"""Where training runs: one device, several local devices (MirroredStrategy), or several
machines (MultiWorkerMirroredStrategy, through the `TF_CONFIG` environment variable).

Across machines every worker builds the same global batches and keeps its own slice of
each: tf.data's AUTO shard policy finds no files in the trainer's in-memory dataset and
shards by data after `fit` has split each batch per replica, so a step covers one global
batch, as on one machine (tests/app/test_train_multiworker.py checks the weights match).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

TF_CONFIG_FORM = (
    '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
)


def cluster_size(tf_config: str) -> int:
    """How many machines a `TF_CONFIG` value names (its "chief" and "worker" jobs), 0 for
    none; refuses a value not of TensorFlow's form, or whose task is not in its cluster."""
    if not tf_config.strip():
        return 0
    try:
        spec = json.loads(tf_config)
        jobs = {job: len(spec["cluster"].get(job, ())) for job in ("chief", "worker")}
        task = spec.get("task", {})
        job, index = task.get("type"), task.get("index")
    except (ValueError, TypeError, AttributeError, KeyError):
        jobs = {}
    if not any(jobs.values()):
        raise ValueError(f"TF_CONFIG={tf_config!r} is not of the form {TF_CONFIG_FORM}")
    if not jobs.get(job) or not isinstance(index, int) or not 0 <= index < jobs[job]:
        allowed = " or ".join(f'"{name}" with index 0 to {n - 1}' for name, n in jobs.items() if n)
        raise ValueError(f"TF_CONFIG task {json.dumps(task)} is not in its cluster: {allowed}")
    return sum(jobs.values())


@functools.cache
def distribution_strategy():
    """MultiWorkerMirroredStrategy when `TF_CONFIG` names several machines; else
    MirroredStrategy over several GPUs (or several logical CPUs, as a test sets up); else
    TensorFlow's default one-device strategy.

    Made once per process: a multi-worker strategy must exist before TensorFlow runs
    anything (the trainer asks before its first op), and the CLI asks again for who exports.
    """
    import tensorflow as tf

    if cluster_size(os.environ.get("TF_CONFIG", "")) > 1:

        class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
            """Takes what Keras 3's `fit` gives `reduce` (keras-team/keras#20585): a nest of
            values (a whole batch), reduced one by one; and a metric's scalar with axis=0,
            averaged over the replicas as Keras does on one machine."""

            def reduce(self, reduce_op, value, axis):
                def reduce_one(part):
                    scalar = self.experimental_local_results(part)[0].shape.rank == 0
                    return super(MultiWorkerMirroredStrategy, self).reduce(
                        reduce_op, part, None if scalar else axis
                    )

                return tf.nest.map_structure(reduce_one, value)

        return MultiWorkerMirroredStrategy()
    gpus, cpus = tf.config.list_logical_devices("GPU"), tf.config.list_logical_devices("CPU")
    devices = gpus if len(gpus) > 1 else cpus if len(cpus) > 1 else []
    if devices:
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    return tf.distribute.get_strategy()


def is_chief(strategy) -> bool:
    """Whether this process writes the run's results: on one machine, always; across
    machines, only the chief (the "chief" job, else worker 0)."""
    return strategy.extended.should_checkpoint


def wait_for_every_worker(strategy) -> None:
    """Returns once every worker of a multi-machine run has called it (at once on one
    machine): a worker that left while the chief still exported would look to it like a
    crash ("tasks have crashed", in its log)."""
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        strategy.reduce("SUM", strategy.run(lambda: tf.constant(0.0)), axis=None)


def checkpoint_dir(run_dir: Path, strategy) -> Path:
    """Where this process checkpoints: `run_dir` itself on one machine or the chief;
    `run_dir/<job>-<index>` on the other workers, which save too (each resumes from its own
    copy) but must never overwrite the chief's files."""
    if is_chief(strategy):
        return Path(run_dir)
    resolver = strategy.cluster_resolver
    return Path(run_dir) / f"{resolver.task_type}-{resolver.task_id}"
