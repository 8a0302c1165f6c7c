"""How a training job ends when something stops it: a worker that dies keeps its finished
epochs (saved from its checkpoint as a cancel saves them), saving is not cut short by a
cancel or the time limit, a job taken off the queue says no place in it, and the worker
starts without TensorFlow's CUDA-probe lines in the server's log."""

import dataclasses
import multiprocessing
import os
import re
import signal

import pytest

from densenet_demo import PRESETS
from densenet_demo.architecture.report import count
from densenet_demo.inference.runs import saved_runs
from densenet_demo.training.budget import Budget
from densenet_demo.training.jobs import TrainingJobs, without_probe_noise
from densenet_demo.training.run_record import RunRecord

from support import until

TINY = dataclasses.replace(PRESETS["fashion"], block_layers=(1, 1), growth_rate=4, init_features=8)
QUICK = Budget(train_images=1_000, epochs=1, batch_size=50, learning_rate=0.1)
LONG = Budget(train_images=1_000, epochs=50, batch_size=50, learning_rate=0.1)

# What TensorFlow 2.21 writes to stderr when a process imports it on a machine without CUDA
# drivers and lists its devices (TF_CPP_MIN_LOG_LEVEL=2), and a real error after it.
IMPORT_LOG = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796408887.853418    8404 port.cc:153] oneDNN custom operations are on. You may see \
slightly different numerical results due to floating-point round-off errors.
I0000 00:00:1796408887.853766    8404 cudart_stub.cc:31] Could not find cuda drivers on your \
machine, GPU will not be used.
W0000 00:00:1796408887.853800    8404 some_file.cc:12] a warning below the level asked
E0000 00:00:1796408890.909025    8404 cuda_platform.cc:52] failed call to cuInit: INTERNAL: \
CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)
E0000 00:00:1796408890.909999    8404 bfc_allocator.cc:40] Out of memory while allocating
Traceback (most recent call last):
"""
PROBE_LINES = ("absl::InitializeLog", "oneDNN", "Could not find cuda drivers", "cuInit")


def kill_worker(run_id):
    worker = next(p for p in multiprocessing.active_children() if p.name == f"train-{run_id}")
    os.kill(worker.pid, signal.SIGKILL)


@pytest.fixture
def jobs(tmp_path):
    return TrainingJobs(tmp_path)


@pytest.mark.slow
def test_a_killed_worker_keeps_its_finished_epochs_saved_from_its_checkpoint(jobs, tmp_path):
    run_id = jobs.submit(TINY, LONG)
    done = len(until(jobs, run_id, lambda state: len(state.history) >= 1)[-1].history)
    kill_worker(run_id)
    final = until(jobs, run_id, lambda state: state.finished)[-1]
    kept = final.figures["epochs"]
    assert final.state == "cancelled", final.message
    assert done <= kept < LONG.epochs
    assert final.message.startswith(f"Stopped after {count(kept, 'epoch')}")
    assert "the worker process ended unexpectedly (killed by signal 9)" in final.message
    where = rf"(in epoch {kept + 1}|after epoch {kept}) of {LONG.epochs}"  # the one it was in
    assert re.search(where, final.message), final.message
    assert f"saved as {run_id}" in final.message
    [run] = saved_runs(tmp_path)
    assert run.run_id == run_id and run.card.epochs == kept and RunRecord.of(run).cancelled


@pytest.mark.slow
def test_a_worker_killed_while_saving_a_complete_run_is_saved_by_another(jobs, tmp_path):
    run_id = jobs.submit(TINY, QUICK)
    until(jobs, run_id, lambda state: state.state == "saving")
    kill_worker(run_id)
    final = until(jobs, run_id, lambda state: state.finished)[-1]
    assert final.state == "done", final.message
    assert final.message.startswith("Done after 1 epoch")
    [run] = saved_runs(tmp_path)
    assert run.card.epochs == 1 and not RunRecord.of(run).cancelled


@pytest.mark.slow
def test_a_cancel_while_saving_lets_the_run_finish_complete_and_says_so(jobs, tmp_path):
    run_id = jobs.submit(TINY, QUICK)
    until(jobs, run_id, lambda state: state.state == "saving")
    answer = jobs.cancel(run_id)
    assert answer.state == "saving"
    assert "training had finished" in answer.message.lower()
    after = until(jobs, run_id, lambda state: state.finished)
    assert "stopping" not in [state.state for state in after]
    assert after[-1].state == "done" and after[-1].message.startswith("Done after 1 epoch")
    [run] = saved_runs(tmp_path)
    assert run.card.epochs == 1 and not RunRecord.of(run).cancelled


@pytest.mark.slow
def test_the_time_limit_does_not_cut_saving_short(jobs, tmp_path):
    run_id = jobs.submit(TINY, QUICK)
    until(jobs, run_id, lambda state: state.state == "saving")
    jobs.limits = dataclasses.replace(jobs.limits, max_minutes=0)  # passed while it saves
    after = until(jobs, run_id, lambda state: state.finished)
    assert "stopping" not in [state.state for state in after]
    assert after[-1].state == "done", after[-1].message
    [run] = saved_runs(tmp_path)
    assert not RunRecord.of(run).cancelled


@pytest.mark.slow
def test_a_job_taken_off_the_queue_keeps_no_place_in_it(jobs):
    first = jobs.submit(TINY, LONG)
    until(jobs, first, lambda state: state.state != "queued")
    second, third = jobs.submit(TINY, QUICK), jobs.submit(TINY, QUICK)
    assert [jobs.state(run_id).queue_position for run_id in (second, third)] == [1, 2]
    assert jobs.cancel(second).queue_position == 0
    assert jobs.state(second).queue_position == 0
    assert jobs.state(third).queue_position == 1
    jobs.cancel(third)
    assert jobs.state(third).queue_position == 0
    jobs.cancel(first)
    until(jobs, first, lambda state: state.finished)


@pytest.mark.slow
def test_the_worker_starts_without_cuda_probe_noise_in_the_server_log(jobs, capfd):
    run_id = jobs.submit(TINY, QUICK)
    assert until(jobs, run_id, lambda state: state.finished)[-1].state == "done"
    log = capfd.readouterr().err
    assert not [line for line in log.splitlines() if any(probe in line for probe in PROBE_LINES)]


def test_the_probe_lines_are_left_out_and_real_errors_kept():
    kept = without_probe_noise(IMPORT_LOG, min_level=2).splitlines()
    assert kept == [
        "E0000 00:00:1796408890.909999    8404 bfc_allocator.cc:40] Out of memory while allocating",
        "Traceback (most recent call last):",
    ]


def test_a_failed_cuda_start_is_kept_where_cuda_drivers_are_installed():
    with_drivers = "\n".join(
        line for line in IMPORT_LOG.splitlines() if "Could not find cuda drivers" not in line
    )
    assert "failed call to cuInit" in without_probe_noise(with_drivers, min_level=2)


def test_the_log_level_asked_for_is_obeyed():
    assert without_probe_noise(IMPORT_LOG, min_level=0) == IMPORT_LOG
    assert "a warning below the level asked" in without_probe_noise(IMPORT_LOG, min_level=1)
    assert "Out of memory" not in without_probe_noise(IMPORT_LOG, min_level=3)
