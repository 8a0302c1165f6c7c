"""Is an upload the kind of picture the model was made for?

The Fashion-MNIST model names one of ten kinds of clothing for any picture: a face becomes
"Bag". Its pooled features tell more than its probabilities: an upload whose features lie far
from those of every class it learned (the smallest Mahalanobis distance to a class mean, with
one covariance shared by the classes: Lee et al. 2018) is flagged. The class means and the
covariance are fitted on training images and shipped beside the card; the threshold is chosen
on held-out validation images (`training.calibration`) and kept on the card with the rates it
was measured at. The labels are still shown.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..files import sha256_of

if TYPE_CHECKING:
    from .card import ModelCard

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DomainCheck:
    """The card's out-of-domain check: flag an upload whose feature distance (squared
    Mahalanobis, to the nearest class) is above `threshold`; the rates are those measured when
    it was chosen."""

    threshold: float
    validation_images: int  # held-out training images the threshold was chosen on
    clothing_flagged: float  # their share above the threshold
    photos_flagged: float  # the share of them flagged when shown as photos (dark on light)
    caught: dict[str, float]  # share flagged, per kind of non-clothing picture
    statistics_file: str  # the class means and shared precision matrix, beside the card
    statistics_sha256: str

    @classmethod
    def from_dict(cls, values: Any) -> DomainCheck:
        """`ValueError` (with no message of its own) unless the card's values fit."""
        names = {field.name for field in dataclasses.fields(cls)}
        if not isinstance(values, dict) or set(values) != names:
            raise ValueError("")
        shares = [float(values[name]) for name in ("clothing_flagged", "photos_flagged")]
        caught = {str(kind): float(share) for kind, share in dict(values["caught"]).items()}
        if (
            not all(0 <= share <= 1 for share in shares + list(caught.values()))
            or not all(
                isinstance(values[name], str) for name in ("statistics_file", "statistics_sha256")
            )
            or isinstance(values["validation_images"], bool)
        ):
            raise ValueError("")
        return cls(
            float(values["threshold"]),
            int(values["validation_images"]),
            *shares,
            caught,
            values["statistics_file"],
            values["statistics_sha256"],
        )

    def flags(self, distance: float) -> bool:
        """Whether a picture at this feature distance looks out of the model's domain."""
        return distance > self.threshold

    def sentence(self, suggestion: str) -> str:
        """One sentence for a flagged picture, `suggestion` saying what to try instead."""
        return (
            "This picture does not look like the clothing this model knows: what it sees in it "
            f"lies farther from every kind it learned than for {1 - self.clothing_flagged:.0%} "
            f"of real clothing images, so its labels are likely wrong; {suggestion}."
        )


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
