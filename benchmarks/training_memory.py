"""Training memory: the analytic estimate against measurement.

(a) On this machine: the peak resident memory (VmHWM) of a real Keras training step, each in a
fresh child process, at two batch sizes; the growth per image between them, beside the
estimate's activations per image (as Keras keeps them, naive, shared-memory). Constant costs
(TensorFlow, weights, tracing) cancel in the difference. The optimizer's state is read from the
variables Keras allocated for it (SGD with momentum's and, in one more run, Adam's): the resident
memory of two runs differs by far more than the state (TensorFlow's own memory per traced step).
(b) Against the DenseNet authors' published Torch measurement (liuzhuang13/DenseNet README:
TITAN X, batch 64, no memory optimisation), with Torch's own buffers recounted from our plan.
(c) No GPU here: nothing is measured on one.

Run: python benchmarks/training_memory.py            (5–7 minutes on 2 busy cores)
     python benchmarks/training_memory.py --xla-bc100  (adds densenet-bc-100 with XLA: +2 min)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from densenet_demo import PRESETS, DenseNetConfig, summarize
from densenet_demo.architecture.published import paper_cifar_config
from densenet_demo.architecture.training_memory import training_memory

MIB = 2**20
WORKERS = 2  # child processes at a time
# (label, config, the two batch sizes, XLA): small inputs so that each step takes seconds.
RUNS = [
    ("densenet-bc-100, 32×32×3", PRESETS["densenet-bc-100"], (8, 40), False),
    ("densenet-40, 32×32×3", PRESETS["densenet-40"], (8, 40), False),
    ("fashion, 28×28×1", PRESETS["fashion"], (16, 80), False),
    (
        "densenet121 at 64×64×3, 10 classes",
        dataclasses.replace(PRESETS["densenet121"], input_shape=(64, 64, 3), num_classes=10),
        (4, 20),
        False,
    ),
    ("fashion, 28×28×1, XLA (the trainer's former default)", PRESETS["fashion"], (16, 80), True),
]
OPTIMIZER_RUN = RUNS[3]  # the most weights: the optimizer's state shows most
XLA_BC100 = ("densenet-bc-100, 32×32×3, XLA", PRESETS["densenet-bc-100"], (8, 40), True)
# liuzhuang13/DenseNet README, "Wide-DenseNet": one TITAN X, batch 64, "without any memory
# optimization" (Torch7, cuDNN); MB as the README writes them. (depth, k, MB)
TORCH_MEASURED = {
    "DenseNet-BC (L=100, k=12)": (100, 12, 5452),
    "Wide-DenseNet-BC (L=40, k=36)": (40, 36, 4008),
    "Wide-DenseNet-BC (L=40, k=48)": (40, 48, 5245),
    "Wide-DenseNet-BC (L=40, k=60)": (40, 60, 6508),
}
TORCH_BATCH = 64


def child(spec: dict) -> None:
    """One training step (two, the first traces) of a fresh model; print the peak RSS."""
    import keras
    import numpy as np

    from densenet_demo import build_model

    config = DenseNetConfig.from_dict(spec["config"])
    model = build_model(config)
    optimizer = (
        keras.optimizers.Adam() if spec["optimizer"] == "adam" else keras.optimizers.SGD(0.1, 0.9)
    )
    model.compile(optimizer, "sparse_categorical_crossentropy", jit_compile=spec["xla"])
    rng = np.random.default_rng(0)
    images = rng.random((spec["batch"], *config.input_shape), dtype=np.float32)
    labels = rng.integers(0, config.num_classes, spec["batch"])
    for _ in range(2):
        model.train_on_batch(images, labels)
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    state = sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in optimizer.variables)
    print(json.dumps({"peak_bytes": peak * 1024, "optimizer_bytes": state}))


def measure(config: DenseNetConfig, batch: int, xla: bool, optimizer="sgd-momentum") -> dict:
    """The peak resident memory and the optimizer's state of a training step, in a fresh
    process."""
    spec = {"config": config.to_dict(), "batch": batch, "xla": xla, "optimizer": optimizer}
    result = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def torch_buffers(config: DenseNetConfig) -> int:
    """Elements per image that the Torch7 implementation keeps allocated: every module's output
    and gradInput (ReLU in place: neither), as nn modules hold both between iterations."""
    summary = summarize(config)
    size = {row.name: row.activations for row in summary.layers}
    kept = {"conv", "batch_norm", "concatenate", "avg_pool", "global_avg_pool", "dense"}
    outputs = sum(size[row.name] for row in summary.layers if row.kind in kept)
    grad_inputs = sum(size[row.inputs[0]] for row in summary.layers if row.kind in kept)
    return outputs + grad_inputs


def measured_table(runs) -> None:
    print("(a) Growth of the peak resident memory per image, two batch sizes, SGD with momentum")
    print(
        "| configuration | batches | measured per image | as Keras keeps them | naive | "
        "shared-memory |"
    )
    print("|---|---|---|---|---|---|")
    jobs = [(run[1], batch, run[3], "sgd-momentum") for run in runs for batch in run[2]]
    _, config, (small, _), xla = OPTIMIZER_RUN
    jobs.append((config, small, xla, "adam"))
    # Two at a time: a process's peak is its own, whatever runs beside it.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = iter(pool.map(lambda job: measure(*job), jobs))
    runs_of = {run[0]: [next(results), next(results)] for run in runs}
    adam = next(results)
    for label, config, (small, large), _ in runs:
        peaks = [run["peak_bytes"] for run in runs_of[label]]
        measured = (peaks[1] - peaks[0]) / (large - small)
        one = summarize(config).activation_memory(1)
        cells = [
            f"{estimate / MIB:.2f} MiB ({estimate / measured:.2f}×)"
            for estimate in (one.saved_bytes, one.naive_bytes, one.shared_bytes)
        ]
        print(
            f"| {label} | {small}, {large} | {measured / MIB:.2f} MiB | " + " | ".join(cells) + " |"
        )
    label, config, (small, _), xla = OPTIMIZER_RUN
    print(f"\nOptimizer state, {label}: Keras' optimizer variables against the estimate")
    for optimizer, run in (("sgd-momentum", runs_of[label][0]), ("adam", adam)):
        estimate = training_memory(summarize(config), 1, optimizer).optimizer_bytes
        print(
            f"- {optimizer}: {run['optimizer_bytes'] / MIB:.2f} MiB allocated, "
            f"{estimate / MIB:.2f} MiB estimated"
        )
    print(
        f"  (peak resident memory, Adam − SGD with momentum, batch {small}: "
        f"{(adam['peak_bytes'] - runs_of[label][0]['peak_bytes']) / MIB:.0f} MiB)"
    )


def torch_table() -> None:
    print(
        f"\n(b) The authors' Torch7 implementation, CIFAR, batch {TORCH_BATCH}, one TITAN X, no "
        "memory optimisation (liuzhuang13/DenseNet README), SGD with momentum"
    )
    print(
        "| model | published | as Keras keeps them | naive | shared-memory | Torch's buffers "
        "recounted | published − recount |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, (depth, growth_rate, published_mb) in TORCH_MEASURED.items():
        config = paper_cifar_config(depth, growth_rate, bc=True)
        step = training_memory(summarize(config), TORCH_BATCH, "sgd-momentum")
        totals = [step.total_bytes(count) / MIB for count in ("saved", "naive", "shared")]
        torch = (step.fixed_bytes + torch_buffers(config) * TORCH_BATCH * 4) / MIB
        print(
            f"| {label} | {published_mb:,} MB | "
            + " | ".join(f"{total:,.0f} MiB" for total in totals)
            + f" | {torch:,.0f} MiB | {published_mb - torch:,.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--xla-bc100", action="store_true", help="also densenet-bc-100 with XLA")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    measured_table(RUNS + [XLA_BC100] * args.xla_bc100)
    torch_table()
    print("\n(c) No GPU on this machine: nothing above was measured on one.")


if __name__ == "__main__":
    main()
