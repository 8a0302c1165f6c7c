"""The Train tab: the first run's time and accuracy, and the page's responsiveness while a
model trains.

Run: nice -n 5 python benchmarks/train_tab.py [--part first-run|latency|all] [--repeat N]
     [--requests N]

first-run (targets: >= 85% validation accuracy in <= 2 min): the tab's default job — Explore's
default configuration (`DEFAULT_PRESET`) planned for `DEFAULT_BUDGET`, i.e. its small variant —
through `TrainingJobs` in a temporary runs folder, timed from `submit` to the job's end:
- to the first step: worker start, imports, data, model build and the first step (tracing);
  split into "before training" and "first step" using the trainer's own epoch-1 seconds;
- each epoch: the trainer's seconds (training and validation; the first holds the first step),
  images/s and validation accuracy;
- saving: the last epoch's end to the saved run (test set, weights, converted model, card);
- total, beside `estimate_seconds` and its parts (START_S, per epoch, saving).
The worker is spawned from this script, whose imports are light; a worker spawned by
`python app.py` imports what app.py imports (the latency part shows that job's figures too).

latency (target: Explore and Classify stay responsive while a model trains): `python app.py`
with a temporary runs folder, warmed up by 600 pairs of the calls below (the sessions Gradio
keeps filled to the app's limit, so that its memory no longer grows with each call). Explore
updates (`POST /gradio_api/run/explore`, densenet121) and predictions (upload + `/predict` of
an example picture) take turns, one client by plain HTTP, `PAUSE_S` apart: N of each with no
job, then for as long as a `/train` job (the same default job) runs, then N with no job again.
Prints the median and 95th percentile of each by the job's phase (its worker starting,
training, saving) and the ratio training / no job (before and after together); the server's
resident memory (VmRSS) before the job, its peak during it and 3 s after it, and the worker
process's peak (VmHWM, read while it runs): the worker's memory must go back to the system,
not stay in the server.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Light imports only: the spawned training worker imports this script again (as __mp_main__).
from densenet_demo import PRESETS
from densenet_demo.architecture.controls import DEFAULT_PRESET, MEMORY_CONTROLS, preset_controls
from densenet_demo.training.budget import (
    DEFAULT_BUDGET,
    START_S,
    TrainingPlan,
    estimate_seconds,
    plan_training,
)

TARGET_ACCURACY = 0.85
TARGET_SECONDS = 120
PAUSE_S = 0.2  # between a client's requests: a person clicking, not a load test
EXPLORE_VALUES = [  # densenet121 as an API caller sends it (as benchmarks/explore.py)
    *preset_controls("densenet121").values(),
    32,
    *(control.default for control in MEMORY_CONTROLS[1:]),
]
EXAMPLE = sorted((ROOT / "examples" / "fashion").glob("*.png"))[0]


def default_plan() -> TrainingPlan:
    return plan_training(PRESETS[DEFAULT_PRESET], DEFAULT_BUDGET)


# --- first run --------------------------------------------------------------------------


def first_run(root: Path) -> dict:
    """One default job through `TrainingJobs`: the follower's times and the job's figures."""
    from densenet_demo.training.jobs import TrainingJobs

    plan = default_plan()
    jobs = TrainingJobs(root)
    started = time.perf_counter()
    run_id = jobs.submit(plan.config, DEFAULT_BUDGET)
    first_step = None
    epoch_ends = []
    for state in jobs.follow(run_id):
        now = time.perf_counter() - started
        if first_step is None and state.state in ("training", "saving"):
            first_step = now
        while len(epoch_ends) < len(state.history):
            epoch_ends.append(now)
    return {
        "state": state,
        "total": time.perf_counter() - started,
        "first_step": first_step,
        "epoch_ends": epoch_ends,
    }


def first_run_part(repeat: int) -> None:
    plan = default_plan()
    budget = DEFAULT_BUDGET
    fixed = estimate_seconds(plan.summary, budget._replace(epochs=0))
    per_epoch = (plan.seconds - fixed) / budget.epochs
    print(
        f"first run: {DEFAULT_PRESET} -> {plan.summary.total_params:,} parameters, "
        f"{plan.summary.macs / 1e6:.1f} M MACs per image "
        f"({'its small variant' if plan.variant_reason else 'as set'}), "
        f"{budget.train_images:,} images x {budget.epochs} epochs, batch {budget.batch_size}, "
        f"lr {budget.learning_rate}; {os.cpu_count()} CPU cores, load average "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    runs = []
    for index in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            runs.append(first_run(Path(folder)))
        state = runs[-1]["state"]
        print(f"  run {index + 1}: {state.state}, {runs[-1]['total']:.1f} s", flush=True)
    rows: list[tuple[str, list[str], str]] = []  # (figure, one value per run, estimate)

    def row(name: str, values: list[str], estimate: str = "") -> None:
        rows.append((name, values, estimate))

    row("to the first step", [f"{run['first_step']:.1f} s" for run in runs], f"{START_S} s")
    firsts = []
    for run in runs:  # the trainer's epoch 1 minus the follower's first step to epoch-1 end
        history, ends = run["state"].history, run["epoch_ends"]
        firsts.append(history[0]["seconds"] - (ends[0] - run["first_step"]) if history else None)
    row(
        "  of which the first step (~)",
        [f"{value:.1f} s" if value is not None else "-" for value in firsts],
    )
    row(
        "  before training (~)",
        [
            f"{run['first_step'] - value:.1f} s" if value is not None else "-"
            for run, value in zip(runs, firsts)
        ],
    )
    for epoch in range(budget.epochs):
        rows_of = [
            run["state"].history[epoch] if epoch < len(run["state"].history) else None
            for run in runs
        ]
        row(
            f"epoch {epoch + 1}: seconds, images/s",
            [
                f"{r['seconds']:.1f} s, {r['images_per_second']:.0f}/s" if r else "-"
                for r in rows_of
            ],
            f"{per_epoch:.1f} s",
        )
        row(
            f"epoch {epoch + 1}: validation accuracy",
            [f"{r['val_accuracy']:.2%}" if r else "-" for r in rows_of],
        )
    row(
        "saving (mirror choice, test, weights, .tflite, card)",
        [
            f"{run['total'] - run['epoch_ends'][-1]:.1f} s" if run["epoch_ends"] else "-"
            for run in runs
        ],
        f"{fixed - START_S:.1f} s",
    )
    row("total, submit to done", [f"{run['total']:.1f} s" for run in runs], f"{plan.seconds:.1f} s")
    row(
        "test accuracy",
        [f"{run['state'].figures.get('test_accuracy', float('nan')):.2%}" for run in runs],
    )
    for run in runs:
        figures = run["state"].figures
        run["accuracy_met"] = figures.get("val_accuracy", 0) >= TARGET_ACCURACY
        run["time_met"] = run["total"] <= TARGET_SECONDS
    row(
        f">= {TARGET_ACCURACY:.0%} validation accuracy",
        [
            f"{'met' if run['accuracy_met'] else 'NOT met'} "
            f"({run['state'].figures.get('val_accuracy', float('nan')):.2%})"
            for run in runs
        ],
    )
    row(
        f"<= {TARGET_SECONDS} s",
        [
            f"{'met' if run['time_met'] else 'NOT met'} ({run['total'] - TARGET_SECONDS:+.0f} s)"
            for run in runs
        ],
    )
    width = max(len(name) for name, _, _ in rows)
    header = "".join(f"{f'run {index + 1}':>24s}" for index in range(len(runs)))
    print(f"  {'':{width}s}{header}{'estimate':>12s}")
    for name, values, estimate in rows:
        print(f"  {name:{width}s}" + "".join(f"{v:>24s}" for v in values) + f"{estimate:>12s}")
    for index, run in enumerate(runs):
        if run["state"].state != "done":
            print(f"  run {index + 1} ended {run['state'].state}: {run['state'].message}")


# --- latency while training -------------------------------------------------------------


def process_status(pid: int, field: str) -> float | None:
    """A field of /proc/PID/status in MiB (VmRSS, VmHWM); None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((line for line in text.splitlines() if line.startswith(f"{field}:")), None)
    return int(line.split()[1]) / 1024 if line else None


def training_workers(pid: int) -> list[int]:
    """The training worker processes among `pid`'s children (multiprocessing's spawned
    processes, not its resource tracker)."""
    children = []  # each thread's own children: the worker is started by the job thread
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            children += (task / "children").read_text().split()
    workers = []
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            workers.append(int(child))
    return workers


class MemoryWatch:
    """The server's VmRSS and its training workers' VmHWM, sampled every half second."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.server: list[float] = []
        self.worker_peaks: dict[int, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.wait(0.5):
            rss = process_status(self.pid, "VmRSS")
            if rss is not None:
                self.server.append(rss)
            for worker in training_workers(self.pid):
                peak = process_status(worker, "VmHWM")
                if peak is not None:
                    self.worker_peaks[worker] = max(peak, self.worker_peaks.get(worker, 0.0))

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


class TrainFollower:
    """A `/train` call by plain HTTP, followed in a thread: the latest state and when each
    state was first seen (seconds after the call)."""

    def __init__(self, url: str, data: list) -> None:
        self.url, self.data = url, data
        self.latest: dict = {}
        self.first_seen: dict[str, float] = {}
        self.error = ""
        self.started = time.perf_counter()
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        import httpx

        from app_server import events

        try:
            with httpx.Client(timeout=None) as http:
                for event, payload in events(http, self.url, "train", self.data):
                    if event == "error":
                        self.error = str(payload)
                    elif event in ("generating", "complete") and payload:
                        self.latest = payload[0]
                        self.first_seen.setdefault(
                            self.latest["state"], time.perf_counter() - self.started
                        )
        except Exception as failure:  # reported with the figures
            self.error = f"{type(failure).__name__}: {failure}"

    def wait_for(self, condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.thread.is_alive():
            if self.latest and condition(self.latest):
                return True
            time.sleep(0.2)
        return bool(self.latest) and condition(self.latest)


class Requests:
    """Explore updates and predictions of the example, taking turns, one client; each one's
    seconds kept under the phase it started in."""

    def __init__(self, url: str) -> None:
        import httpx

        from densenet_demo.inference.service import DEFAULT_MODEL

        self.url, self.model = url, DEFAULT_MODEL
        self.http = httpx.Client(timeout=300)
        self.seconds: dict[str, dict[str, list[float]]] = {}

    def fill_sessions(self) -> None:
        """Warm up: the model loaded, and the sessions Gradio keeps (one per call, ~0.28 MiB
        each for these) at the app's limit, so that the server's memory no longer grows with
        the calls measured (it levels off after about 500 pairs)."""
        from densenet_demo.ui.hosting import SESSION_CAPACITY

        for _ in range(SESSION_CAPACITY + 100):
            self.pair("warm-up", pause=0.0)

    def pair(self, phase: str, pause: float = PAUSE_S) -> None:
        """An Explore update, then a prediction, each timed under `phase`."""
        from app_server import call, run, upload

        times = self.seconds.setdefault(phase, {"explore": [], "predict": []})
        started = time.perf_counter()
        run(self.http, self.url, "explore", EXPLORE_VALUES)
        times["explore"].append(time.perf_counter() - started)
        time.sleep(pause)
        started = time.perf_counter()
        call(self.http, self.url, "predict", [upload(self.http, self.url, EXAMPLE), 5, self.model])
        times["predict"].append(time.perf_counter() - started)
        time.sleep(pause)


def latency_part(count: int) -> None:
    from load import percentile

    from app_server import start_app

    plan = default_plan()
    budget = DEFAULT_BUDGET
    print(
        f"latency: Explore updates and predictions taking turns, {PAUSE_S} s apart, one "
        f"client by plain HTTP; {count} of each with no job; job: "
        f"{plan.summary.total_params:,} parameters, {budget.train_images:,} images x "
        f"{budget.epochs} epochs; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        server, url = start_app(DENSENET_RUNS_DIR=str(Path(folder) / "runs"))
        try:
            requests = Requests(url)
            requests.fill_sessions()
            for _ in range(count):
                requests.pair("no job, before")
            before_rss = process_status(server.pid, "VmRSS")
            watch = MemoryWatch(server.pid)
            job = TrainFollower(
                url,
                [
                    plan.config.to_dict(),
                    budget.train_images,
                    budget.epochs,
                    budget.batch_size,
                    budget.learning_rate,
                ],
            )
            while job.thread.is_alive():
                requests.pair(job.latest.get("state", "queued"))
            finished = time.perf_counter() - job.started
            time.sleep(3)  # the worker joined, its pages freed
            after_rss = process_status(server.pid, "VmRSS")
            watch.stop()
            for _ in range(count):
                requests.pair("no job, after")
        finally:
            server.terminate()
            server.wait(timeout=30)
    state = job.latest
    print(
        f"  the job: {state.get('state')} in {finished:.1f} s "
        f"(first step at {job.first_seen.get('training', float('nan')):.1f} s); "
        f"{state.get('message', '')} {job.error}".rstrip()
    )
    phases = [
        phase
        for phase in ("no job, before", "starting", "training", "saving", "no job, after")
        if phase in requests.seconds
    ]
    idle = {
        kind: requests.seconds["no job, before"][kind] + requests.seconds["no job, after"][kind]
        for kind in ("explore", "predict")
    }
    print(f"  {'':26s}" + "".join(f"{phase:>16s}" for phase in phases) + f"{'ratio':>18s}")
    print(
        f"  {'requests of each kind':26s}"
        + "".join(f"{len(requests.seconds[phase]['explore']):16d}" for phase in phases)
        + f"{'training/no job':>18s}"
    )
    for kind, label in (("explore", "Explore update"), ("predict", "upload + /predict")):
        for name, fraction in (("median", 0.5), ("p95", 0.95)):
            values = {
                phase: percentile(requests.seconds[phase][kind], fraction) * 1e3 for phase in phases
            }
            ratio = values.get("training", float("nan")) / (percentile(idle[kind], fraction) * 1e3)
            print(
                f"  {label + ' ' + name:26s}"
                + "".join(f"{values[phase]:13.0f} ms" for phase in phases)
                + f"{ratio:17.2f}x"
            )
    peak_server = max(watch.server) if watch.server else float("nan")
    worker_peak = max(watch.worker_peaks.values()) if watch.worker_peaks else float("nan")
    print(
        f"  server VmRSS: before the job {before_rss:.0f} MiB, peak during it "
        f"{peak_server:.0f} MiB, 3 s after it {after_rss:.0f} MiB ({after_rss - before_rss:+.0f} "
        f"MiB); the training worker's peak VmHWM {worker_peak:.0f} MiB "
        f"({len(watch.worker_peaks)} worker process(es) seen)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("first-run", "latency", "all"), default="all")
    parser.add_argument("--repeat", type=int, default=1, help="first-run jobs, one after another")
    parser.add_argument(
        "--requests", type=int, default=40, help="of each kind, before and after the job"
    )
    args = parser.parse_args()
    if args.part in ("first-run", "all"):
        first_run_part(args.repeat)
    if args.part in ("latency", "all"):
        latency_part(args.requests)


if __name__ == "__main__":
    main()
