"""Is an upload the kind of picture the model was made for?

The Fashion-MNIST model names one of ten kinds of clothing for any picture: a face becomes
"Bag". Its pooled features tell more than its probabilities: an upload whose features lie far
from those of every class it learned (the smallest Mahalanobis distance to a class mean, with
one covariance shared by the classes: Lee et al. 2018) is flagged. The class means and the
covariance are fitted on training images and shipped beside the card; the threshold is chosen
on held-out validation images (`training.calibration`) and kept on the card with the rates it
was measured at (`card.DomainCheck`). The labels are still shown.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from ..files import sha256_of
from .card import DomainCheck, ModelCard

LOG = logging.getLogger(__name__)


class FeatureStatistics:
    """Class means of the pooled features and the precision matrix of their shared
    covariance (what the statistics file holds)."""

    def __init__(self, means: np.ndarray, precision: np.ndarray) -> None:
        self.means = np.asarray(means, np.float32)  # (classes, D)
        self.precision = np.asarray(precision, np.float32)  # (D, D)
        # precision = W W^T, so a distance is a plain one after one product by W: a
        # (D, D) product per upload instead of one per class.
        self._whiten = np.linalg.cholesky(self.precision.astype(np.float64)).astype(np.float32)
        self._centres = self.means @ self._whiten

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray) -> FeatureStatistics:
        classes = int(labels.max()) + 1
        features = np.asarray(features, np.float64)
        means = np.stack([features[labels == c].mean(axis=0) for c in range(classes)])
        centred = features - means[labels]
        covariance = centred.T @ centred / len(centred)
        # A little ridge: some feature channels are nearly constant after the last BN-ReLU.
        covariance += 1e-6 * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
        return cls(means, np.linalg.inv(covariance))

    def distances(self, features: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance of each row of `features` (N, D) to the nearest class
        mean."""
        whitened = np.asarray(features, np.float32) @ self._whiten
        return ((whitened[:, None, :] - self._centres[None]) ** 2).sum(axis=2).min(axis=1)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, means=self.means, precision=self.precision)
        return buffer.getvalue()


def load_statistics(card: ModelCard, folder: Path) -> tuple[DomainCheck, FeatureStatistics] | None:
    """The card's check and its statistics file, or None when the card has no check or the
    file is missing or does not match the card's SHA-256 (then the check is off: logged)."""
    check = card.domain_check
    if check is None:
        return None
    path = Path(folder) / check.statistics_file
    if not path.is_file() or sha256_of(path) != check.statistics_sha256:
        LOG.warning("%s is missing or does not match its card: out-of-domain check off", path)
        return None
    with np.load(path, allow_pickle=False) as data:
        return check, FeatureStatistics(data["means"], data["precision"])
