"""Training jobs in worker processes: progress streamed, a cancel within 2 s that keeps the
epochs done, a killed worker reported in one sentence, one job at a time with a queue, limits
checked before a job starts, and the saved run served like any trained model."""

import dataclasses
import multiprocessing
import os
import signal
import time

import numpy as np
import pytest

from densenet_demo import PRESETS
from densenet_demo.architecture.report import count
from densenet_demo.inference.classifier import load_classifier
from densenet_demo.inference.runs import saved_runs
from densenet_demo.training.budget import Budget, TrainingLimits
from densenet_demo.training.data import load_fashion_mnist
from densenet_demo.training.jobs import TrainingJobs
from densenet_demo.training.run_record import RunRecord

from support import until

pytestmark = pytest.mark.slow  # real training in worker processes

TINY = dataclasses.replace(PRESETS["fashion"], block_layers=(1, 1), growth_rate=4, init_features=8)
QUICK = Budget(train_images=1_000, epochs=1, batch_size=50, learning_rate=0.1)
LONG = Budget(train_images=1_000, epochs=50, batch_size=50, learning_rate=0.1)
# Killed in its first epoch (400 steps), before any epoch is done and saved.
LONG_FIRST_EPOCH = Budget(train_images=20_000, epochs=50, batch_size=50, learning_rate=0.1)


@pytest.fixture
def jobs(tmp_path):
    return TrainingJobs(tmp_path)


def worker_of(run_id):
    return next(p for p in multiprocessing.active_children() if p.name == f"train-{run_id}")


def test_a_job_streams_progress_and_saves_a_run_that_classifies(jobs, tmp_path):
    run_id = jobs.submit(TINY, QUICK)
    states = until(jobs, run_id, lambda state: state.finished)
    kinds = [state.state for state in states]
    assert kinds[-1] == "done", states[-1].message
    assert "training" in kinds and "saving" in kinds
    final = states[-1]
    assert len(final.history) == 1 and final.history[0]["epoch"] == 1
    assert final.steps_seen and final.steps == QUICK.train_images // QUICK.batch_size
    assert 0 <= final.figures["test_accuracy"] <= 1
    assert f"saved as {run_id}" in final.message
    [run] = saved_runs(tmp_path)
    record = RunRecord.of(run)
    assert run.run_id == run_id and not record.cancelled
    assert (record.train_images, record.epochs, record.batch_size) == QUICK[:3]
    classifier = load_classifier(run.folder)  # a run folder loads like a weights folder
    test = load_fashion_mnist()["test"]
    predicted = classifier.predict_batch(test.images).argmax(axis=1)
    assert np.mean(predicted == test.labels) == pytest.approx(run.card.test_accuracy, abs=1e-4)


def test_a_cancel_stops_within_two_seconds_and_keeps_the_epochs_done(jobs, tmp_path):
    run_id = jobs.submit(TINY, LONG)
    until(jobs, run_id, lambda state: len(state.history) >= 1 and state.state == "training")
    asked = time.monotonic()
    jobs.cancel(run_id)
    until(jobs, run_id, lambda state: state.state in ("saving", "cancelled"))
    assert time.monotonic() - asked < 2.0
    final = until(jobs, run_id, lambda state: state.finished)[-1]
    assert final.state == "cancelled", final.message
    kept = final.figures["epochs"]
    assert kept >= 1 and kept == len(final.history) < LONG.epochs
    [run] = saved_runs(tmp_path)
    assert run.card.epochs == kept and RunRecord.of(run).cancelled
    assert final.message.startswith(f"Stopped after {count(kept, 'epoch')}")
    # The queue goes on: a new job starts and finishes.
    again = jobs.submit(TINY, QUICK)
    assert until(jobs, again, lambda state: state.finished)[-1].state == "done"


def test_a_killed_worker_fails_the_job_in_one_sentence_and_the_next_one_runs(jobs, tmp_path):
    run_id = jobs.submit(TINY, LONG_FIRST_EPOCH)
    until(jobs, run_id, lambda state: state.state == "training")
    os.kill(worker_of(run_id).pid, signal.SIGKILL)
    final = until(jobs, run_id, lambda state: state.finished)[-1]
    assert final.state == "failed"
    assert "worker process ended unexpectedly (killed by signal 9)" in final.message
    assert saved_runs(tmp_path) == [] and not (tmp_path / run_id).exists()
    again = jobs.submit(TINY, QUICK)
    assert until(jobs, again, lambda state: state.finished)[-1].state == "done"


def test_one_job_trains_at_a_time_and_the_next_waits_its_turn(jobs):
    first = jobs.submit(TINY, QUICK)
    second = jobs.submit(TINY, QUICK)
    assert jobs.state(second).queue_position == 1
    waiting = until(jobs, second, lambda state: state.state != "queued")
    assert jobs.state(first).finished  # the second started only after the first ended
    assert [state.queue_position for state in waiting if state.state == "queued"][0] == 1
    jobs.cancel(second)


def test_a_waiting_job_can_be_taken_off_the_queue(jobs):
    first = jobs.submit(TINY, QUICK)
    second = jobs.submit(TINY, QUICK)
    assert jobs.cancel(second).state == "cancelled"
    assert jobs.state(second).message == "Cancelled before it started."
    until(jobs, first, lambda state: state.finished)


def test_a_job_over_the_limits_or_a_full_queue_is_refused_before_it_starts(tmp_path):
    jobs = TrainingJobs(tmp_path, TrainingLimits(max_params=1_000, max_queue=1))
    with pytest.raises(ValueError, match="over this server's limit of 1,000"):
        jobs.submit(PRESETS["fashion"], QUICK)
    jobs = TrainingJobs(tmp_path, TrainingLimits(max_queue=1))
    first = jobs.submit(TINY, LONG)
    until(jobs, first, lambda state: state.state != "queued")
    jobs.submit(TINY, QUICK)
    with pytest.raises(ValueError, match="1 training jobs are already waiting"):
        jobs.submit(TINY, QUICK)
    jobs.cancel(first)


def test_an_unknown_job_is_refused_in_one_sentence(jobs):
    with pytest.raises(ValueError, match="is not a training job of this server"):
        jobs.cancel("run-20261201-093000-1a2b")


def test_a_stopped_servers_unfinished_run_is_removed_once_no_job_could_still_be_running(tmp_path):
    stale, recent = tmp_path / "run-20261130-010000-aaaa", tmp_path / "run-20261201-010000-bbbb"
    for folder in (stale, recent):
        folder.mkdir()
        (folder / "progress.json").write_text("{}")
    hours_ago = time.time() - 10 * 3600
    for path in (stale / "progress.json", stale):
        os.utime(path, (hours_ago, hours_ago))
    TrainingJobs(tmp_path, TrainingLimits(max_minutes=60))
    assert not stale.exists() and recent.exists()
