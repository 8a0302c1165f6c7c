"""Classifiers as a server holds them: each model loaded once, on first use, one load at a
time, then shared by every request through a micro-batcher. No Gradio here: the Classify tab
(and any other front end) turns the `ValueError`s into its own messages."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..architecture.config import short_repr
from ..architecture.presets import PRESET_INFO
from .batcher import MicroBatcher
from .classifier import Classifier, load_classifier
from .imagenet import WEIGHT_FILES
from .runs import is_run_id, run_folder

DEFAULT_MODEL = "fashion"  # shipped with the project: works offline
RETRY_AFTER_S = 600  # a model that could not be loaded is tried again after this long
RUNS_LOADED = 8  # Train-tab runs kept loaded at once
# The Model menu's names: short enough for a phone's menu.
MODELS = {DEFAULT_MODEL: "Fashion-MNIST (this project)"} | {
    name: PRESET_INFO[name].title for name in WEIGHT_FILES
}


class Prediction(NamedTuple):
    """One upload's top classes, the model input it became, and where the time went."""

    top: list[tuple[str, float]]
    seen: np.ndarray  # the uint8 model input
    prepare_seconds: float  # reading and preparing the image
    model_seconds: float  # waiting for and running the forward pass
    out_of_domain: bool  # its features lie beyond the model's domain check (if it has one)


class ClassifyService:
    """One classifier, loaded and warmed up once, shared by all requests through a batcher."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier
        self.batcher = MicroBatcher(self._forward)

    def _forward(self, batch: np.ndarray) -> list[tuple[np.ndarray, bool]]:
        """(class probabilities, out of domain?) for each model input of a batch."""
        features, probabilities = self.classifier.forward(batch)
        if self.classifier.domain is None:
            return [(row, False) for row in probabilities]
        check, statistics = self.classifier.domain
        return [
            (row, check.flags(distance))
            for row, distance in zip(probabilities, statistics.distances(features))
        ]

    def classify(self, image, top_k: int) -> Prediction:
        """The `top_k` classes of one upload; `ValueError` in one sentence for a bad `top_k`
        or an unreadable, too large or damaged image."""
        started = time.perf_counter()
        top_k = self.classifier.check_top_k(top_k)
        seen = self.classifier.model_input(image)
        prepared = time.perf_counter()
        probabilities, out_of_domain = self.batcher.submit(seen)
        top = self.classifier.top(probabilities, top_k)
        return Prediction(
            top, seen, prepared - started, time.perf_counter() - prepared, out_of_domain
        )


class _Failure(NamedTuple):
    reason: str
    when: float  # time.monotonic()
    folder: object  # the weights folder's state then (`ModelRegistry._folder_state`)


class ModelRegistry:
    """The models of `MODELS` by name, each loaded on first use, one load at a time, then
    shared. A model that could not be loaded is refused with the same reason, at once, until
    its weights folder changes or `RETRY_AFTER_S` have passed: every request retrying a
    download that cannot succeed would stall the page for nothing."""

    def __init__(self, weights_dir: str | Path | None = None) -> None:
        self.weights_dir = weights_dir
        self._services: dict[str, ClassifyService] = {}
        self._failures: dict[str, _Failure] = {}
        self._loading = threading.Lock()

    def _folder_state(self) -> object:
        """Changes when a file is added to or removed from the weights folder."""
        try:
            return Path(self.weights_dir).stat().st_mtime_ns if self.weights_dir else None
        except OSError:
            return None

    def _recent_failure(self, name: str) -> str | None:
        failure = self._failures.get(name)
        if (
            failure is None
            or failure.folder != self._folder_state()
            or time.monotonic() - failure.when >= RETRY_AFTER_S
        ):
            return None
        return failure.reason

    def load(self, name: str, isolated: bool = True) -> tuple[ClassifyService | None, str]:
        """(service, "") or (None, the one-sentence reason it is unavailable). `isolated`:
        convert in a child process, so that requests meanwhile are served without stalls;
        only a load before the app serves (the default model's) can skip it."""
        if name not in self._services:  # a loaded model never waits for another's load
            with self._loading:
                if name not in self._services:
                    reason = self._recent_failure(name)
                    if reason is not None:
                        return None, reason
                    try:
                        classifier = load_classifier(name, self.weights_dir, isolated)
                    except (ValueError, OSError) as error:
                        reason = _unavailable(name, error)
                        self._failures[name] = _Failure(
                            reason, time.monotonic(), self._folder_state()
                        )
                        return None, reason
                    self._failures.pop(name, None)
                    self._services[name] = ClassifyService(classifier)
        return self._services[name], ""

    def _forget_runs_beyond(self, count: int) -> None:
        """Keep the `count` runs loaded last (each holds a converted model in memory)."""
        with self._loading:
            runs = [name for name in self._services if is_run_id(name)]
            for name in runs[: max(0, len(runs) - count)]:
                del self._services[name]

    def service(self, model) -> ClassifyService:
        """The loaded model `model` (a name of `MODELS` or a saved run's id); `ValueError`
        with the reason when it is unknown or unavailable."""
        if not isinstance(model, str) or model not in MODELS:  # a list is not hashable
            if not is_run_id(model):
                raise ValueError(
                    f"model={short_repr(model)} is invalid: allowed {', '.join(MODELS)} or "
                    "a run id (from /runs)"
                )
            run_folder(model)  # refused at once when the run is not saved (any more)
            if model not in self._services:
                self._forget_runs_beyond(RUNS_LOADED - 1)
        service, unavailable = self.load(model)
        if service is None:
            raise ValueError(unavailable)
        return service


def _unavailable(name: str, error: Exception) -> str:
    if name in WEIGHT_FILES or is_run_id(name):  # the error already says what is missing
        return str(error)
    return (
        f"The {name} model is unavailable ({error}). Train it with "
        f"`python -m densenet_demo train`, which writes weights/{name}.*"
    )
