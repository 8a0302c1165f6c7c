"""Feature reuse inside each dense block of a trained model (Huang et al. 2017, Figure 5).

Layer l of a block reads the block input and the k channels of every earlier layer, in that
order (the concatenation order). How much weight its first convolution puts on each of those
slices shows which earlier features it actually uses.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..architecture.config import DenseNetConfig
from ..architecture.plan import plan_layers


class ReuseGrid(NamedTuple):
    """One dense block: cell (s, t) is how strongly reader t uses the channels of source s.

    Sources are the block input then layers 1..L; readers are layers 1..L then what follows
    the block (its transition, or the classifier after the last block). A reader only sees
    the sources before it, so cells with s >= t+1 are NaN.
    """

    block: int
    sources: tuple[str, ...]
    readers: tuple[str, ...]
    mean_abs: np.ndarray  # (sources, readers): mean |weight| on the source's channels

    @property
    def normalised(self) -> np.ndarray:
        """`mean_abs` divided by each reader's largest value: 1 marks its strongest source.

        Per reader, because BN before each convolution rescales its inputs: weight sizes are
        comparable within one layer, not across layers.
        """
        peak = np.nanmax(self.mean_abs, axis=0, keepdims=True)
        return self.mean_abs / np.where(peak > 0, peak, 1.0)


class _BlockReaders(NamedTuple):
    block: int
    boundaries: tuple[int, ...]  # channel offsets: source s is [boundaries[s], boundaries[s+1])
    readers: tuple[str, ...]  # Keras layer names: each dense layer's first conv, then the next
    labels: tuple[str, ...]


def _block_readers(config: DenseNetConfig) -> list[_BlockReaders]:
    """From the layer plan: each dense layer's first conv (the 1x1 bottleneck when there is
    one, else the 3x3), then the transition conv or the classifier reading the whole block."""
    plan = plan_layers(config)
    blocks = []
    for block in range(1, len(config.block_layers) + 1):
        positions = [i for i, spec in enumerate(plan) if spec.stage == f"block {block}"]
        boundaries, readers, waiting = [0, plan[positions[0]].output_shape[-1]], [], True
        for spec in (plan[i] for i in positions):
            if spec.kind == "conv" and waiting:
                readers.append(spec.name)
                waiting = False
            elif spec.kind == "concatenate":
                boundaries.append(spec.output_shape[-1])
                waiting = True
        after = next(spec for spec in plan[positions[-1] + 1 :] if spec.kind in ("conv", "dense"))
        readers.append(after.name)
        last = "classifier" if after.kind == "dense" else f"transition {block}"
        labels = tuple(f"layer {n}" for n in range(1, len(readers))) + (last,)
        blocks.append(_BlockReaders(block, tuple(boundaries), tuple(readers), labels))
    return blocks


def feature_reuse(model, config: DenseNetConfig) -> list[ReuseGrid]:
    """One `ReuseGrid` per dense block of `model`, a Keras model built from `config`.

    Raises `ValueError` if a layer's input width differs from what `config` plans.
    """
    grids = []
    for block in _block_readers(config):
        bounds = block.boundaries
        sources = ("block input",) + block.labels[:-1]
        mean_abs = np.full((len(sources), len(block.readers)), np.nan)
        for reader, name in enumerate(block.readers):
            kernel = np.asarray(model.get_layer(name).get_weights()[0])
            if kernel.shape[-2] != bounds[reader + 1]:
                raise ValueError(
                    f"layer {name} reads {kernel.shape[-2]} channels but the config "
                    f"plans {bounds[reader + 1]}: the model was not built from it"
                )
            # The input-channel axis is -2 for Conv2D (h, w, in, out) and Dense (in, out) alike.
            magnitude = np.abs(np.moveaxis(kernel, -2, 0)).reshape(kernel.shape[-2], -1)
            for source in range(reader + 1):
                mean_abs[source, reader] = magnitude[bounds[source] : bounds[source + 1]].mean()
        grids.append(ReuseGrid(block.block, sources, block.labels, mean_abs))
    return grids


def reuse_matrices(grids: list[ReuseGrid]) -> tuple[tuple[tuple[float | None, ...], ...], ...]:
    """The grids' `mean_abs` as a model card stores them (None for the unread cells)."""
    return tuple(
        tuple(
            tuple(None if np.isnan(v) else round(float(v), 6) for v in row) for row in grid.mean_abs
        )
        for grid in grids
    )


def reuse_from_card(matrices, config: DenseNetConfig) -> list[ReuseGrid]:
    """The grids a model card stores (`reuse_matrices`), labelled from `config`.

    Raises `ValueError` when their shapes are not those `config` plans.
    """
    blocks = _block_readers(config)
    shapes = [(len(block.boundaries) - 1, len(block.readers)) for block in blocks]
    found = [(len(matrix), len(matrix[0]) if matrix else 0) for matrix in matrices]
    if found != shapes:
        raise ValueError(f"the feature-reuse grids are {found}, but the config plans {shapes}")
    return [
        ReuseGrid(
            block.block,
            ("block input",) + block.labels[:-1],
            block.labels,
            np.array([[np.nan if v is None else v for v in row] for row in matrix], float),
        )
        for block, matrix in zip(blocks, matrices)
    ]
