"""Training through the app's API, as gradio_client callers (and the Train tab) use it: a job
streams its progress and ends as a saved run that /predict serves; a cancel, a killed worker, a
refusal and the queue each answer in one sentence while the server keeps serving; runs survive
a restart, and a server with training off lists them, serves them and refuses to train."""

import json
import os
import signal
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from densenet_demo import PRESETS
from densenet_demo.inference.runs import is_run_id

from support import EXAMPLE, launch_app, stop

pytestmark = [pytest.mark.server, pytest.mark.slow]  # real training in the app's worker

TINY = {**PRESETS["fashion"].to_dict(), "block_layers": [1, 1], "growth_rate": 4}
TINY["init_features"] = 8
QUICK = (1_000, 1, 50, 0.1)  # training images, epochs, batch size, learning rate
LONG = (1_000, 60, 50, 0.1)
LONG_FIRST_EPOCH = (20_000, 60, 50, 0.1)  # killed in its first epoch: nothing done to save


@pytest.fixture(scope="module")
def training_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train-app")
    process, url = launch_app(folder)
    yield process, url, folder / "runs"
    stop(process)


@pytest.fixture(scope="module")
def client(training_app):
    return Client(training_app[1], verbose=False)


@pytest.fixture(scope="module")
def finished_run(client):
    """A tiny run trained through /train: every update it streamed."""
    job = client.submit(json.dumps(TINY), *QUICK, api_name="/train")
    updates = list(job)
    return updates


def follow(job, until):
    """The job's updates up to the first for which `until` holds."""
    seen = []
    for update in job:
        seen.append(update)
        if until(update):
            return seen
    raise AssertionError(f"the job ended first: {seen[-1] if seen else 'no update'}")


def worker_pids(server_pid: int) -> list[int]:
    """The app's child processes that are training workers (multiprocessing's spawn)."""
    tasks = Path(f"/proc/{server_pid}/task").glob("*/children")  # each thread's children
    children = [pid for task in tasks for pid in task.read_text().split()]
    return [
        int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def test_train_streams_progress_and_ends_with_the_saved_run(finished_run):
    states = [update["state"] for update in finished_run]
    assert states[0] in ("queued", "starting") and states[-1] == "done"
    assert "training" in states and "saving" in states
    final = finished_run[-1]
    assert is_run_id(final["run_id"]) and final["epoch"] == 1
    assert final["history"][0]["epoch"] == 1 and 0 <= final["figures"]["test_accuracy"] <= 1
    assert any(update["step"] and update["images_per_second"] for update in finished_run)


def test_runs_lists_the_run_and_predict_serves_it(client, finished_run):
    run_id = finished_run[-1]["run_id"]
    [record] = [run for run in client.predict(api_name="/runs") if run["run_id"] == run_id]
    assert record["epochs_done"] == record["epochs"] == 1
    assert record["test_accuracy"] == finished_run[-1]["figures"]["test_accuracy"]
    label, _, about = client.predict(handle_file(str(EXAMPLE)), 3, run_id, api_name="/predict")
    assert len(label["confidences"]) == 3 and "Predicted in" in about


def test_predict_refuses_a_run_that_is_not_saved(client):
    with pytest.raises(Exception, match="is not among the saved runs"):
        client.predict(
            handle_file(str(EXAMPLE)), 3, "run-20200101-000000-0000", api_name="/predict"
        )


def test_a_cancelled_job_keeps_its_epochs_and_a_new_one_starts(client, finished_run):
    job = client.submit(json.dumps(TINY), *LONG, api_name="/train")
    started = follow(job, lambda update: len(update["history"]) >= 1)
    run_id = started[-1]["run_id"]
    assert client.predict(run_id, api_name="/cancel_training")["state"] in ("stopping", "saving")
    final = follow(job, lambda update: update["state"] in ("done", "cancelled", "failed"))[-1]
    assert final["state"] == "cancelled", final["message"]
    assert 1 <= final["figures"]["epochs"] < LONG[1]
    saved = {run["run_id"]: run for run in client.predict(api_name="/runs")}
    assert saved[run_id]["epochs_done"] == final["figures"]["epochs"]
    again = client.submit(json.dumps(TINY), *QUICK, api_name="/train")
    assert list(again)[-1]["state"] == "done"


def test_a_killed_worker_ends_the_job_in_one_sentence_and_the_server_serves_on(
    training_app, client, finished_run
):
    job = client.submit(json.dumps(TINY), *LONG_FIRST_EPOCH, api_name="/train")
    follow(job, lambda update: update["state"] == "training")
    [worker] = worker_pids(training_app[0].pid)
    os.kill(worker, signal.SIGKILL)
    killed = r"worker process ended unexpectedly \(killed by signal 9\)"
    with pytest.raises(Exception, match=killed):
        list(job)
        job.result()
    assert client.predict(api_name="/runs")  # still serving
    again = client.submit(json.dumps(TINY), *QUICK, api_name="/train")
    assert list(again)[-1]["state"] == "done"


def test_a_second_job_waits_in_the_queue_with_its_position(client, finished_run):
    first = client.submit(json.dumps(TINY), *QUICK, api_name="/train")
    follow(first, lambda update: update["state"] != "queued")
    second = client.submit(json.dumps(TINY), *QUICK, api_name="/train")
    waiting = follow(second, lambda update: update["state"] != "queued")
    assert waiting[0]["state"] == "queued" and waiting[0]["queue_position"] == 1
    assert list(first)[-1]["state"] == "done"
    assert list(second)[-1]["state"] == "done"


def test_a_job_over_the_limits_is_refused_before_it_starts(client):
    huge = {**PRESETS["densenet121"].to_dict(), "stem": "cifar"}  # 7 M parameters
    with pytest.raises(Exception, match="over this server's limit of 2,000,000"):
        client.predict(json.dumps(huge), *QUICK, api_name="/train")


def test_a_configuration_that_cannot_take_28_px_is_refused_with_a_variant(client):
    with pytest.raises(Exception, match="cannot train on Fashion-MNIST.*a variant that fits: "):
        client.predict(json.dumps(PRESETS["densenet121"].to_dict()), *QUICK, api_name="/train")


def test_a_bad_budget_value_is_refused_by_name(client):
    with pytest.raises(Exception, match="epochs=0 is invalid"):
        client.predict(json.dumps(TINY), 1_000, 0, 50, 0.1, api_name="/train")


def test_runs_survive_a_restart_and_training_off_serves_them_but_refuses_to_train(
    training_app, finished_run, tmp_path
):
    runs_dir, run_id = training_app[2], finished_run[-1]["run_id"]
    process, url = launch_app(tmp_path, DENSENET_RUNS_DIR=str(runs_dir), DENSENET_TRAINING="off")
    try:
        client = Client(url, verbose=False)
        assert run_id in [run["run_id"] for run in client.predict(api_name="/runs")]
        label, _, _ = client.predict(handle_file(str(EXAMPLE)), 2, run_id, api_name="/predict")
        assert len(label["confidences"]) == 2
        with pytest.raises(Exception, match=r"Training is turned off on this server"):
            client.predict(json.dumps(TINY), *QUICK, api_name="/train")
    finally:
        stop(process)
