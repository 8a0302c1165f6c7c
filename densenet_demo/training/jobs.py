"""Training jobs for a server: each in a worker process of its own, one at a time, the others
waiting in a queue.

A worker process keeps TensorFlow's threads and memory out of the server (the page stays
responsive, and the memory goes back to the system when the job ends), and a crash or a kill
of it ends the job with one sentence while the server serves on. The worker runs the CLI's
training code (`trainer.train`, then `export`) into the job's run folder and reports by
messages; the server keeps each job's latest state (`JobState`) for any number of followers.

Cancel: the worker ends training at the next step (`trainer.train`'s `should_stop`) and saves
the epochs done; a worker that has not stopped within `CANCEL_GRACE_S` (a step longer than
that, or an XLA compile) is killed and the epochs done are saved from the checkpoint by a
fresh worker. A worker that dies (killed from outside, or crashed) is treated the same way:
the epochs its checkpoint holds are saved by a fresh worker. Testing and saving, once begun,
is interrupted neither by a cancel nor by the time limit.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import multiprocessing
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..architecture.config import DenseNetConfig
from ..architecture.report import count
from ..inference.card import card_path
from ..inference.runs import new_run_id, remove_oldest, runs_dir
from .budget import Budget, TrainingLimits, estimate_seconds, training_limits
from .trainer import Checkpoint, TrainSettings

CANCEL_GRACE_S = 1.5  # a cancelled worker still training after this long is killed
PROGRESS_EVERY_S = 1.0  # a worker reports its step this often
FOLLOW_EVERY_S = 1.0  # a follower hears at least this often (a queue position moves)
FINISHED = ("done", "cancelled", "failed")
MAX_STEPS_SEEN = 1_000  # points of the live curve kept per job
JOBS_KEPT = 100  # finished jobs whose state the server remembers
# The worker yields the cores to the server: Explore and Classify answer first, training
# takes what is left.
WORKER_NICENESS = 10


@dataclasses.dataclass
class JobState:
    """Where a job is; what the page and `/train` show. Plain or immutable values only (a
    copy is handed to each follower)."""

    run_id: str
    config: dict
    budget: Budget
    estimate_seconds: float
    state: str = "queued"  # queued, starting, training, stopping, saving, done, cancelled, failed
    queue_position: int = 0  # jobs ahead of it (0 once it runs)
    epoch: int = 0  # the epoch in progress (1-based) or last done
    step: int = 0
    steps: int = 0
    images_per_second: float | None = None
    seconds_left: float | None = None
    started: float | None = None  # time.time()
    steps_seen: list = dataclasses.field(default_factory=list)  # (epoch + step/steps, loss, acc)
    history: list = dataclasses.field(default_factory=list)  # the trainer's rows, one per epoch
    message: str = ""  # one sentence for people
    figures: dict = dataclasses.field(default_factory=dict)  # once saved: test accuracy etc.

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def copy(self) -> JobState:
        """A copy a follower may keep while the job goes on."""
        return dataclasses.replace(
            self,
            steps_seen=list(self.steps_seen),
            history=list(self.history),
            figures=dict(self.figures),
        )


class _Job:
    def __init__(self, state: JobState, config: DenseNetConfig) -> None:
        self.state = state
        self.config = config
        self.cancel_requested: float | None = None  # time.monotonic()
        self.cancel_event = None  # the worker's, once it runs
        self.worker_ended: str | None = None  # how a worker died, when one did
        self.version = 0  # bumped at every change, for followers


class TrainingJobs:
    """The server's training jobs: `submit`, `follow`, `cancel`. One worker at a time."""

    def __init__(
        self,
        root: Path | None = None,
        limits: TrainingLimits | None = None,
        data_dir: str | None = None,
    ) -> None:
        self.root = Path(root) if root is not None else runs_dir()
        self.limits = limits if limits is not None else training_limits()
        self.data_dir = data_dir
        self._jobs: dict[str, _Job] = {}
        self._waiting: collections.deque[_Job] = collections.deque()
        self._running: _Job | None = None
        self._changed = threading.Condition()
        self._context = multiprocessing.get_context("spawn")  # TensorFlow is not fork-safe
        self._remove_interrupted()
        threading.Thread(target=self._dispatch, name="training-jobs", daemon=True).start()

    def _remove_interrupted(self) -> None:
        """Folders of runs a stopped server never finished (no card), untouched for longer
        than any job may run: not resumable here. (A younger one may be another server's,
        training now.)"""
        oldest = time.time() - (self.limits.max_minutes + 60) * 60
        for folder in self.root.glob("run-*"):
            if not card_path(folder, folder.name).exists():
                with contextlib.suppress(OSError):
                    newest = max(path.stat().st_mtime for path in [folder, *folder.iterdir()])
                    if newest < oldest:
                        shutil.rmtree(folder, ignore_errors=True)

    # --- the API -------------------------------------------------------------------------

    def submit(self, config: DenseNetConfig, budget: Budget) -> str:
        """Queue a job; its run id. `ValueError` in one sentence when the limits refuse it
        (checked before it waits) or the queue is full."""
        from ..architecture.summary import summarize

        summary = summarize(config)
        self.limits.check(summary, budget)
        with self._changed:
            if len(self._waiting) >= self.limits.max_queue:
                raise ValueError(
                    f"{len(self._waiting)} training jobs are already waiting (this server's "
                    "limit): try again when one has finished"
                )
            run_id = new_run_id()
            while run_id in self._jobs:
                run_id = new_run_id()
            state = JobState(
                run_id,
                config.to_dict(),
                budget,
                estimate_seconds(summary, budget),
                steps=budget.train_images // budget.batch_size,
            )
            job = _Job(state, config)
            finished = [key for key, old in self._jobs.items() if old.state.finished]
            for key in finished[: max(0, len(finished) - JOBS_KEPT)]:
                del self._jobs[key]
            self._jobs[run_id] = job
            self._waiting.append(job)
            self._renumber()
            self._changed.notify_all()  # the dispatcher waits for a job
        return run_id

    def state(self, run_id: str) -> JobState:
        """A copy of the job's state; `ValueError` for an unknown job."""
        with self._changed:
            return self._job(run_id).state.copy()

    def follow(self, run_id: str) -> Iterator[JobState]:
        """The job's state now, then at every change (and at least every `FOLLOW_EVERY_S`),
        until it has finished."""
        seen = -1
        while True:
            with self._changed:
                job = self._job(run_id)
                if job.version == seen:
                    self._changed.wait(FOLLOW_EVERY_S)
                seen = job.version
                state = job.state.copy()
            yield state
            if state.finished:
                return

    def cancel(self, run_id: str) -> JobState:
        """Cancel a waiting job, or stop a training one (its epochs done are kept). A job
        testing and saving is not interrupted: its answer says so."""
        with self._changed:
            job = self._job(run_id)
            if job in self._waiting:
                self._waiting.remove(job)
                self._renumber()
                self._update(
                    job,
                    state="cancelled",
                    queue_position=0,
                    message="Cancelled before it started.",
                )
            elif job.state.state == "saving":
                if job.cancel_requested is None and job.worker_ended is None:
                    self._update(job, message=TRAINED_BEFORE_STOP)
            elif not job.state.finished and job.cancel_requested is None:
                job.cancel_requested = time.monotonic()
                if job.cancel_event is not None:
                    job.cancel_event.set()
                self._update(job, state="stopping", message="Stopping…")
            return job.state.copy()

    # --- inside ------------------------------------------------------------------------

    def _job(self, run_id: str) -> _Job:
        job = self._jobs.get(run_id) if isinstance(run_id, str) else None
        if job is None:
            raise ValueError(
                f"{str(run_id)[:60]!r} is not a training job of this server "
                "(finished runs are listed by /runs)"
            )
        return job

    def _update(self, job: _Job, **changes: Any) -> None:
        """Change a job's state and wake its followers (call holding `_changed`)."""
        for name, value in changes.items():
            setattr(job.state, name, value)
        job.version += 1
        self._changed.notify_all()

    def _renumber(self) -> None:
        """Each waiting job's count of jobs ahead of it (the one training included)."""
        for position, job in enumerate(self._waiting, start=int(self._running is not None)):
            if job.state.queue_position != position:
                self._update(job, queue_position=position)

    def _dispatch(self) -> None:
        while True:
            with self._changed:
                while not self._waiting:
                    self._changed.wait()
                job = self._running = self._waiting.popleft()
                self._renumber()
                self._update(job, state="starting", queue_position=0, started=time.time())
            try:
                self._run(job)
            except Exception as error:  # the queue must outlive any one job
                with self._changed:
                    self._update(job, state="failed", message=f"Training failed: {error}")
            with self._changed:
                self._running = None
                self._renumber()

    def _spawn(self, job: _Job, resume: bool):
        cancel = self._context.Event()
        if resume:
            cancel.set()  # straight to saving what the checkpoint holds
        messages = self._context.Queue()
        spec = {
            "config": job.config.to_dict(),
            "settings": dataclasses.asdict(job.state.budget.settings(job.state.run_id)),
            "run_dir": str(self.root / job.state.run_id),
            "data_dir": self.data_dir,
            "resume": resume,
        }
        process = self._context.Process(
            target=work,
            args=(spec, messages, cancel),
            name=f"train-{job.state.run_id}",
            daemon=True,  # ends with the server
        )
        process.start()
        return process, messages, cancel

    def _run(self, job: _Job) -> None:
        process, messages, cancel = self._spawn(job, resume=False)
        saver = False  # the worker only saves a checkpoint (after one was killed or died)
        with self._changed:
            job.cancel_event = cancel
            if job.cancel_requested is not None:
                cancel.set()
        started = time.monotonic()
        while True:
            try:
                kind, payload = messages.get(timeout=0.2)
            except queue.Empty:
                kind = None
                if not process.is_alive():  # its last messages are flushed before it ends
                    try:
                        kind, payload = messages.get(timeout=1)
                    except queue.Empty:
                        if not self._save_after_death(job, process.exitcode, saver):
                            break
                        process, messages, cancel = self._spawn(job, resume=True)
                        saver = True
                        continue
            if kind is not None and self._receive(job, kind, payload):
                break
            now = time.monotonic()
            over_time = now - started > self.limits.max_minutes * 60
            if (
                over_time
                and job.cancel_requested is None
                and job.state.state in ("starting", "training")  # saving is not cut short
            ):
                with self._changed:
                    job.cancel_requested = now
                    cancel.set()
                    self._update(
                        job,
                        state="stopping",
                        message=f"Stopping at this server's limit of "
                        f"{self.limits.max_minutes:g} min…",
                    )
            elif (
                job.cancel_requested is not None
                and job.state.state == "stopping"
                and now - job.cancel_requested > CANCEL_GRACE_S
            ):
                process.kill()
                process.join()
                if not self._save_after_kill(job):
                    break
                process, messages, cancel = self._spawn(job, resume=True)
                saver = True
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
        with self._changed:
            if job.state.state in ("done", "cancelled"):
                remove_oldest(self.root)

    def _epochs_saved(self, job: _Job) -> int:
        """The epochs the job's checkpoint holds (its worker's messages may lag behind)."""
        return Checkpoint(self.root / job.state.run_id).epochs_done()

    def _save_after_kill(self, job: _Job) -> bool:
        """After killing a worker that did not stop: True when a checkpoint is there to save
        from; otherwise the job ends cancelled, nothing kept."""
        done = self._epochs_saved(job)
        if done:
            with self._changed:
                self._update(job, state="saving", message=_saving(done))
            return True
        shutil.rmtree(self.root / job.state.run_id, ignore_errors=True)
        with self._changed:
            self._update(job, state="cancelled", message=NOTHING_KEPT)
        return False

    def _receive(self, job: _Job, kind: str, payload: Any) -> bool:
        """Apply one worker message; True when the job has finished."""
        with self._changed:
            state = job.state
            if kind == "step":
                if state.state == "starting":
                    self._update(job, state="training", message="")
                fraction = payload["epoch"] - 1 + payload["step"] / payload["steps"]
                rate = payload["images_per_second"]
                budget = state.budget
                images_left = (budget.epochs - fraction) * payload["steps"] * budget.batch_size
                state.steps_seen.append(
                    (round(fraction, 4), payload.get("loss"), payload.get("accuracy"))
                )
                if len(state.steps_seen) > MAX_STEPS_SEEN:  # hours of steps: every other one
                    del state.steps_seen[::2]
                self._update(
                    job,
                    epoch=payload["epoch"],
                    step=payload["step"],
                    steps=payload["steps"],
                    images_per_second=rate,
                    seconds_left=images_left / rate if rate else None,
                )
            elif kind == "epoch":
                state.history.append(payload)
                self._update(
                    job,
                    epoch=payload["epoch"],
                    step=state.steps,
                    images_per_second=state.images_per_second or payload["images_per_second"],
                )
            elif kind == "stopped":
                done = payload["epochs_done"]
                if done == 0:
                    self._update(job, state="cancelled", message=NOTHING_KEPT)
                    return False  # the worker removes its folder and exits
                if job.worker_ended is not None:
                    message = f"{_capitalised(job.worker_ended)}: {_saving_the(done)}"
                else:
                    message = _saving(done)
                self._update(job, state="saving", message=message)
            elif kind == "saving":
                if state.state == "stopping":  # all epochs were done when the stop came
                    self._update(job, state="saving", message=TRAINED_BEFORE_STOP)
                elif state.state != "saving":  # (else: its sentence already says so)
                    self._update(job, state="saving", message="Testing and saving the model…")
            elif kind == "saved":
                self._saved(job, payload)
                return True
            elif kind == "failed":
                shutil.rmtree(self.root / job.state.run_id, ignore_errors=True)
                self._update(job, state="failed", message=f"Training failed: {payload}")
                return True
            elif kind == "exit":
                return True
        return False

    def _saved(self, job: _Job, payload: dict) -> None:
        """The job's end once its run is saved: done when it holds all its epochs, however
        late a cancel came (call holding `_changed`)."""
        epochs = payload["epochs"]
        complete = epochs >= job.state.budget.epochs
        figures = (
            f"validation accuracy {payload['val_accuracy']:.2%}, test accuracy "
            f"{payload['test_accuracy']:.2%}; saved as {job.state.run_id}"
        )
        if complete and job.worker_ended is not None:
            message = f"Done after {count(epochs, 'epoch')}: {figures} by a second worker, as "
            message += f"{job.worker_ended}."
        elif complete:
            message = f"Done after {count(epochs, 'epoch')}: {figures}."
        elif job.worker_ended is not None:
            message = f"Stopped after {count(epochs, 'epoch')}, when {job.worker_ended}: "
            message += f"{figures}."
        else:
            message = f"Stopped after {count(epochs, 'epoch')}: {figures}."
        self._update(
            job,
            state="done" if complete else "cancelled",
            figures=payload,
            seconds_left=0,
            message=message,
        )

    def _save_after_death(self, job: _Job, exitcode: int | None, saver: bool) -> bool:
        """After a worker ended without a word (killed from outside, or crashed): True when
        its checkpoint holds epochs that a fresh worker is to save, as after a cancel;
        otherwise the job has failed and its folder is removed."""
        state = job.state
        if state.state == "cancelled":  # it had nothing to save and was exiting
            return False
        how = f"killed by signal {-exitcode}" if exitcode and exitcode < 0 else f"exit {exitcode}"
        if state.state == "saving" or saver:
            where = " while saving"
        elif state.epoch:
            between = state.steps and state.step >= state.steps  # that epoch ended, none began
            where = f" {'after' if between else 'in'} epoch {state.epoch} of {state.budget.epochs}"
        else:
            where = ""
        ended = f"the worker process ended unexpectedly ({how}){where}"
        done = 0 if saver else self._epochs_saved(job)  # a second death: not tried again
        with self._changed:
            if done:
                job.worker_ended = ended
                self._update(
                    job, state="saving", message=f"{_capitalised(ended)}: {_saving_the(done)}"
                )
                return True
            shutil.rmtree(self.root / state.run_id, ignore_errors=True)
            nothing = "the run was not saved" if saver else "no epoch had ended: nothing was saved"
            self._update(job, state="failed", message=f"Training failed: {ended}; {nothing}.")
        return False


NOTHING_KEPT = "Cancelled before the first epoch ended: nothing was saved."
TRAINED_BEFORE_STOP = (
    "Training had finished before it could be stopped: testing and saving the model "
    "(not interrupted)…"
)


def _saving_the(epochs_done: int) -> str:
    return f"testing and saving the {count(epochs_done, 'epoch')} done…"


def _saving(epochs_done: int) -> str:
    return f"Stopped: {_saving_the(epochs_done)}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the worker process -----------------------------------------------------------------


def work(spec: dict, messages, cancel) -> None:
    """A worker process: train `spec` into its run folder, reporting by `messages`; then test
    and save the model (the epochs done, when `cancel` was set)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with contextlib.suppress(OSError, AttributeError):  # (not on Windows)
        os.nice(WORKER_NICENESS)
    run_dir = Path(spec["run_dir"])
    try:
        _start_tensorflow_quietly()
        config = DenseNetConfig.from_dict(spec["config"])
        settings = TrainSettings(**spec["settings"])
        model, meta = _train(config, settings, spec, messages, cancel)
        if meta["epochs_done"] == 0:
            shutil.rmtree(run_dir, ignore_errors=True)
            messages.put(("exit", None))
            return
        messages.put(("saving", None))
        from .export import export

        export(model, config, settings, meta, run_dir, data_dir=spec["data_dir"])
        from ..inference.card import ModelCard

        card = ModelCard.read(card_path(run_dir, settings.name))
        messages.put(
            (
                "saved",
                {
                    "epochs": card.epochs,
                    "val_accuracy": card.final_val_accuracy,
                    "test_accuracy": card.test_accuracy,
                    "params": card.params,
                    "train_seconds": card.train_seconds,
                },
            )
        )
    except Exception as error:  # one sentence for the page; the folder is removed
        text = str(error).strip().splitlines()
        messages.put(("failed", f"{type(error).__name__}: {text[0] if text else ''}"))


# How Abseil writes a line (severity letter, date, time, thread, file:line), and its notice
# before the first line when it has not been initialised.
_NATIVE_LOG_LINE = re.compile(r"([IWEF])\d{4} [\d:.]+\s+\d+ \S+:\d+\] ")
_SEVERITIES = "IWEF"  # TF_CPP_MIN_LOG_LEVEL 1 hides I, 2 also W, 3 also E
_ABSL_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called"
_NO_CUDA_DRIVER = "Could not find cuda drivers"
_CUDA_START_FAILED = "failed call to cuInit"


def without_probe_noise(text: str, min_level: int) -> str:
    """What TensorFlow wrote to stderr as it started (`text`), less its probe noise: the lines
    below `min_level` (TF_CPP_MIN_LOG_LEVEL), which Abseil prints anyway before it is
    initialised (abseil-cpp pull request 1957), its notice saying so, and, on a machine
    without CUDA drivers, the failed CUDA start that follows. Everything else is kept: an
    error, a Python warning or traceback."""
    if min_level <= 0:
        return text
    no_driver = _NO_CUDA_DRIVER in text
    kept = []
    for line in text.splitlines(keepends=True):
        native = _NATIVE_LOG_LINE.match(line)
        below_level = native is not None and _SEVERITIES.index(native[1]) < min_level
        expected = no_driver and native is not None and _CUDA_START_FAILED in line
        if not (below_level or expected or line.startswith(_ABSL_NOTICE)):
            kept.append(line)
    return "".join(kept)


def _start_tensorflow_quietly() -> None:
    """Import TensorFlow and probe its devices with what they write to stderr (file
    descriptor 2, C++ included) held back, then write back all but `without_probe_noise`."""
    try:
        level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        level = 0
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe, here rather than in training
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = without_probe_noise(captured.read().decode(errors="replace"), level)
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def _train(config: DenseNetConfig, settings: TrainSettings, spec: dict, messages, cancel):
    import keras

    from .trainer import train

    class Progress(keras.callbacks.Callback):
        """Reports the step every `PROGRESS_EVERY_S`, with the images/s of this epoch."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.epoch_started, self.last = epoch + 1, None, 0.0

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            if self.epoch_started is None:  # the first step carries the compile: not counted
                self.epoch_started, self.first_step = now, batch + 1
            if now - self.last < PROGRESS_EVERY_S:
                return
            self.last = now
            steps_timed = batch + 1 - self.first_step
            elapsed = now - self.epoch_started
            logs = logs or {}
            messages.put(
                (
                    "step",
                    {
                        "epoch": self.epoch,
                        "step": batch + 1,
                        "steps": self.params["steps"],
                        "loss": _number(logs.get("loss")),
                        "accuracy": _number(logs.get("accuracy")),
                        "images_per_second": round(steps_timed * settings.batch_size / elapsed, 1)
                        if elapsed > 0
                        else None,
                    },
                )
            )

    model, meta = train(
        config,
        settings,
        Path(spec["run_dir"]),
        data_dir=spec["data_dir"],
        resume=spec["resume"],
        log=lambda line: None,
        callbacks=(Progress(),),
        should_stop=cancel.is_set,
        on_epoch=lambda row: messages.put(("epoch", row)),
    )
    if meta["epochs_done"] < settings.epochs:
        messages.put(("stopped", {"epochs_done": meta["epochs_done"]}))
    return model, meta


def _number(value) -> float | None:
    return None if value is None else round(float(value), 5)
