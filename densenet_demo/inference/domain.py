"""Is an upload the kind of picture the model was made for?

The Fashion-MNIST model names one of ten kinds of clothing for any picture: a face becomes
"Bag". Its maximum softmax probability (Hendrycks & Gimpel 2017) is lower on pictures unlike
its training data, so an upload whose top class falls below a threshold is flagged. The
threshold is chosen on held-out validation images (`training.calibration`) and kept on the
model card with the rates it was measured at; the labels are still shown.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class DomainCheck:
    """The card's out-of-domain check: flag an upload whose top-class probability is below
    `threshold`; the rest are the rates measured when it was chosen."""

    threshold: float
    validation_images: int  # held-out training images the threshold was chosen on
    clothing_flagged: float  # their share below the threshold
    photos_flagged: float  # the share of them flagged when shown as photos (dark on light)
    caught: dict[str, float]  # share flagged, per kind of non-clothing picture

    @classmethod
    def from_dict(cls, values: Any) -> DomainCheck:
        """`ValueError` (with no message of its own) unless the card's values fit."""
        if not isinstance(values, dict) or set(values) != {f.name for f in dataclasses.fields(cls)}:
            raise ValueError("")
        shares = [
            float(values[name]) for name in ("threshold", "clothing_flagged", "photos_flagged")
        ]
        caught = {str(kind): float(share) for kind, share in dict(values["caught"]).items()}
        if not all(0 <= share <= 1 for share in shares + list(caught.values())) or isinstance(
            values["validation_images"], bool
        ):
            raise ValueError("")
        return cls(shares[0], int(values["validation_images"]), shares[1], shares[2], caught)

    def flags(self, top_probability: float) -> bool:
        """Whether a picture whose top class has this probability looks out of the domain."""
        return top_probability < self.threshold

    def sentence(self, top_probability: float, suggestion: str) -> str:
        """One sentence for a flagged picture, `suggestion` saying what to try instead."""
        return (
            f"This picture does not look like the clothing this model knows: its top class has "
            f"{top_probability:.0%} probability, below the {self.threshold:.0%} "
            f"that {1 - self.clothing_flagged:.0%} of real clothing images reach, so its labels "
            f"are likely wrong; {suggestion}."
        )
