"""Tiled inference: run an image model on overlapping tiles and blend them.

Memory stays bounded by the tile size: only the input, one output accumulator and a
weight map of the full image are held (about 28 bytes per pixel for a single LDR
image), plus the network's activations for one tile.

Layout along each axis (`tile_layout`): tiles of `tile` pixels (rounded down to a
multiple of the model `stride`) whose origins are multiples of `stride`; consecutive
tiles overlap by at least `overlap`; the last tile ends at the border. `tiled_predict`
lays the tiles over the image padded to a multiple of the stride the way the network
pads a whole image, so every tile sees the pooling grid of the untiled image and all
tiles have the same size (good for server-side batching too).

Blending (`axis_weights`): inside an overlap of L pixels each tile's weight falls
from 1 to 0 towards its inner edge. The outer `margin = margin_fraction * L` pixels
at the inner edge get (almost) no weight, because convolutions there see the zero
padding of the tile border instead of the neighbouring pixels; over the middle
L - 2 * margin pixels the weight follows a smoothstep, and the two smoothsteps of
neighbouring tiles sum to 1 (s(t) + s(1 - t) = 1). The accumulated result is
divided by the accumulated weight. A seam error remains wherever the network's
receptive field reaches beyond the trusted part of a tile: see `seam_error`.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from hdr_keras.layers.padding import stride_padding

# Weight floor: every covered pixel keeps a positive total weight.
_EPSILON = 1e-6
DEFAULT_TILE = 512
DEFAULT_OVERLAP = 64
DEFAULT_MARGIN_FRACTION = 0.25

PredictFn = Callable[[np.ndarray, "np.ndarray | None"], np.ndarray]


def tile_layout(size: int, tile: int, overlap: int, stride: int = 1) -> list[tuple]:
    """[(origin, extent)] along one axis of `size` pixels (see module docstring)."""
    if size < 1:
        raise ValueError(f"image size must be >= 1, got {size}")
    stride = max(1, int(stride))
    tile = max(stride, tile // stride * stride)
    if not 0 <= overlap < tile:
        raise ValueError(
            f"overlap must lie in [0, tile) = [0, {tile}) (tile rounded down to a "
            f"multiple of the stride {stride}), got {overlap}"
        )
    if size <= tile:
        return [(0, size)]
    step = max(stride, (tile - overlap) // stride * stride)
    origins = list(range(0, size - tile + 1, step))
    last = (size - tile) // stride * stride
    if origins[-1] < last:
        origins.append(last)
    extents = [tile] * (len(origins) - 1) + [size - origins[-1]]
    return list(zip(origins, extents))


def _ramp(length: int, margin_fraction: float) -> np.ndarray:
    """Weights rising from ~0 to ~1 over an overlap of `length` pixels."""
    margin = margin_fraction * length
    span = max(length - 2.0 * margin, 1e-9)
    t = np.clip((np.arange(length) + 0.5 - margin) / span, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def axis_weights(
    layout: list[tuple], margin_fraction: float = DEFAULT_MARGIN_FRACTION
) -> list[np.ndarray]:
    """Per-tile 1-D blending weights for one axis of `layout`."""
    weights = []
    for index, (origin, extent) in enumerate(layout):
        weight = np.ones(extent, np.float64)
        if index > 0:  # overlap with the previous tile at the start
            previous_end = layout[index - 1][0] + layout[index - 1][1]
            length = min(previous_end - origin, extent)
            if length > 0:
                weight[:length] *= _ramp(length, margin_fraction)
        if index + 1 < len(layout):  # overlap with the next tile at the end
            length = min(origin + extent - layout[index + 1][0], extent)
            if length > 0:
                weight[extent - length :] *= _ramp(length, margin_fraction)[::-1]
        weights.append(np.maximum(weight, _EPSILON).astype(np.float32))
    return weights


def iter_tiles(
    height: int, width: int, tile: int, overlap: int, stride: int = 1
) -> Iterator[tuple[int, int, int, int]]:
    """(top, left, tile height, tile width) of every tile, row by row."""
    for top, tile_height in tile_layout(height, tile, overlap, stride):
        for left, tile_width in tile_layout(width, tile, overlap, stride):
            yield top, left, tile_height, tile_width


def _symmetric_indices(start: int, stop: int, before: int, size: int) -> np.ndarray:
    """Source indices of padded positions [start, stop) under symmetric padding."""
    index = np.arange(start, stop) - before
    index = np.where(index < 0, -index - 1, index)
    index = np.where(index >= size, 2 * size - index - 1, index)
    return index


def tiled_predict(
    predict: PredictFn,
    ldr: np.ndarray,
    exposure: np.ndarray | None = None,
    tile: int = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    stride: int = 1,
    margin_fraction: float = DEFAULT_MARGIN_FRACTION,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Linear HDR [H, W, 3] of `ldr` computed tile by tile.

    When the image is larger than one tile and `stride` > 1, the tiles are cut from
    the image padded to a multiple of `stride` exactly as the network would pad the
    whole image (symmetric, centred: `stride_padding`), without materialising the
    padded image. Every tile is then a multiple of the stride, so the network pads
    nothing itself and each tile sees the pooling grid of the untiled image.

    Args:
        predict: maps a batch of one tile, `ldr` [1, h, w, 3] (single-image) or
            [1, N, h, w, 3] (stack), and `exposure` [1, N] or None, to HDR
            [1, h, w, 3].
        ldr: [H, W, 3] or a stack [N, H, W, 3], float32 in [0, 1].
        exposure: [N] stops for a stack, else None.
        tile, overlap, stride, margin_fraction: see the module docstring.
        progress: called with (tiles done, tile count) after each tile.
    """
    ldr = np.asarray(ldr, np.float32)
    stack = exposure is not None
    if ldr.ndim != (4 if stack else 3) or ldr.shape[-1] != 3:
        raise ValueError(
            f"ldr must be {'[N, H, W, 3]' if stack else '[H, W, 3]'}, got {ldr.shape}"
        )
    stride = max(1, int(stride))
    height, width = ldr.shape[-3], ldr.shape[-2]
    batch_exposure = (
        None if exposure is None else np.asarray(exposure, np.float32)[None]
    )
    tile = max(stride, tile // stride * stride)
    if height <= tile and width <= tile:  # one tile: the network pads it itself
        hdr = np.asarray(predict(ldr[None], batch_exposure))[0]
        if progress:
            progress(1, 1)
        return hdr.astype(np.float32, copy=False)

    top, bottom = stride_padding(height, stride)
    left, right = stride_padding(width, stride)
    rows = tile_layout(height + top + bottom, tile, overlap, stride)
    columns = tile_layout(width + left + right, tile, overlap, stride)
    row_weights = axis_weights(rows, margin_fraction)
    column_weights = axis_weights(columns, margin_fraction)
    result = np.zeros((height, width, 3), np.float32)
    total = np.zeros((height, width), np.float32)
    count, done = len(rows) * len(columns), 0
    for (row, tile_height), row_weight in zip(rows, row_weights):
        source_rows = _symmetric_indices(row, row + tile_height, top, height)
        # The part of the tile inside the image, in tile and in image coordinates.
        r0, r1 = max(row, top), min(row + tile_height, top + height)
        for (column, tile_width), column_weight in zip(columns, column_weights):
            source_columns = _symmetric_indices(
                column, column + tile_width, left, width
            )
            part = ldr.take(source_rows, axis=-3).take(source_columns, axis=-2)
            hdr = np.asarray(predict(part[None], batch_exposure))[0]
            if hdr.shape != (tile_height, tile_width, 3):
                raise ValueError(
                    f"the model returned {hdr.shape} for a tile of "
                    f"{(tile_height, tile_width, 3)}"
                )
            c0, c1 = max(column, left), min(column + tile_width, left + width)
            weight = (
                row_weight[r0 - row : r1 - row, None]
                * column_weight[None, c0 - column : c1 - column]
            )
            crop = hdr[r0 - row : r1 - row, c0 - column : c1 - column]
            target = (slice(r0 - top, r1 - top), slice(c0 - left, c1 - left))
            result[target] += crop * weight[..., None]
            total[target] += weight
            done += 1
            if progress:
                progress(done, count)
    result /= total[..., None]
    return result


def seam_error(tiled: np.ndarray, full: np.ndarray) -> dict[str, float]:
    """Max and mean absolute difference, and the max relative to full's range."""
    difference = np.abs(np.asarray(tiled, np.float64) - np.asarray(full, np.float64))
    scale = float(np.max(np.abs(full))) or 1.0
    return {
        "max_abs": float(difference.max()),
        "mean_abs": float(difference.mean()),
        "max_rel_to_peak": float(difference.max() / scale),
    }


def tile_count(
    height: int, width: int, tile: int, overlap: int, stride: int = 1
) -> int:
    """Tiles in the layout over an image of height x width (`tile_layout` per axis)."""
    return len(tile_layout(height, tile, overlap, stride)) * len(
        tile_layout(width, tile, overlap, stride)
    )
