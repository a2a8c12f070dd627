"""LDR files in, HDR file + tonemapped PNG out, through any `Backend`.

Inputs: one LDR image for single-image models, a bracket of >= 2 for stack models;
the bracket's stops come from `hdr_keras.inference.exposures` and the frames are
sorted from the shortest to the longest exposure (the reference is the middle one).
Large images run through overlapping tiles (`hdr_keras.inference.tiling`) aligned
to the backend's stride; a `whole_image` backend runs untiled. The PNG is
`hdr_keras.tonemapping.tonemap` (mu-law) with the whole image's peak, or the output itself for a backend
whose output is already a display image (`output_kind` "display": Mertens).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from hdr_keras.inference import tiling
from hdr_keras.inference.backends import Backend
from hdr_keras.inference.exposures import read_stops
from hdr_keras.inference.metadata import DISPLAY
from hdr_keras.io import is_hdr_path, read_image, write_image
from hdr_keras.spec import SINGLE
from hdr_keras.tonemapping import tonemap

OUTPUT_EXTENSIONS = (".exr", ".hdr")
ALIGN_CHOICES = ("none", "homography")

logger = logging.getLogger(__name__)


def read_inputs(
    paths: Sequence[str],
    input_kind: str,
    exposure_file: str | None = None,
    exposure_times_file: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(ldr [H, W, 3] or [N, H, W, 3], exposure stops [N] or None) from files."""
    for path in paths:
        if is_hdr_path(path):
            raise ValueError(f"{path} is an HDR file; the inputs must be LDR images")
    if input_kind == SINGLE:
        if len(paths) != 1:
            raise ValueError(
                f"a single-image model takes exactly one input image, got {len(paths)}"
            )
        if exposure_file or exposure_times_file:
            logger.warning("single-image model: the exposure file is ignored")
        return read_image(paths[0]), None
    if len(paths) < 2:
        raise ValueError(
            f"a stack model needs a bracket of >= 2 images, got {len(paths)}"
        )
    stops = read_stops(paths, exposure_file, exposure_times_file)
    order = np.argsort(stops, kind="stable")  # the signatures expect short -> long
    if np.any(order != np.arange(len(order))):
        logger.info("frames sorted by exposure: %s", [paths[i] for i in order])
    paths, stops = [paths[i] for i in order], stops[order]
    frames = [read_image(path) for path in paths]
    sizes = {frame.shape for frame in frames}
    if len(sizes) != 1:
        raise ValueError(f"the bracket's images differ in size: {sorted(sizes)}")
    return np.stack(frames), stops


def tonemap_for_display(hdr: np.ndarray) -> np.ndarray:
    """The PNG's view of [H, W, 3] radiance: `hdr_keras.tonemapping.tonemap` with its
    default (mu-law, the whole image's peak, computed in row bands)."""
    return tonemap(hdr)


def predict_files(
    backend: Backend,
    inputs: Sequence[str],
    output: str | Path,
    exposure_file: str | None = None,
    exposure_times_file: str | None = None,
    tile: int = tiling.DEFAULT_TILE,
    overlap: int = tiling.DEFAULT_OVERLAP,
    stride: int | None = None,
    align: str = "none",
) -> tuple[Path, Path]:
    """Runs `backend` on the files; writes `output` (.exr/.hdr) and its .png.

    `align="homography"` first aligns the background of every non-reference frame
    of a bracket to the middle (reference) frame (Wu et al. 2018's preprocessing;
    `hdr_keras.ops.alignment`).
    """
    output = Path(output)
    if output.suffix.lower() not in OUTPUT_EXTENSIONS:
        raise ValueError(f"--output must end in .exr or .hdr, got {output.name}")
    ldr, exposure = read_inputs(
        inputs, backend.input_kind, exposure_file, exposure_times_file
    )
    if align not in ALIGN_CHOICES:
        raise ValueError(f"--align must be one of {ALIGN_CHOICES}, got {align!r}")
    if align == "homography":
        if exposure is None:
            raise ValueError("--align=homography needs a bracket (a stack model)")
        from hdr_keras.ops.alignment import align_to_reference
        from hdr_keras.ops.stack import default_reference

        ldr = align_to_reference(ldr, exposure, default_reference(len(ldr)))[0]
    stride = stride or backend.stride or 1
    height, width = ldr.shape[-3], ldr.shape[-2]
    if backend.whole_image:  # one tile covering the image, no overlap to blend
        if max(height, width) > tile:
            logger.info("%s needs the whole image: not tiled", backend.description)
        tile, overlap = max(height, width, tile), 0
    count = tiling.tile_count(height, width, tile, overlap, stride)
    logger.info(
        "%s: %dx%d, %d tile(s) of %d px, overlap %d, stride %d",
        backend.description,
        width,
        height,
        count,
        tile,
        overlap,
        stride,
    )

    def progress(done: int, total: int) -> None:
        if total > 1 and (done == total or done % 10 == 0):
            logger.info("tile %d/%d", done, total)

    hdr = tiling.tiled_predict(
        backend.predict, ldr, exposure, tile, overlap, stride, progress=progress
    )
    del ldr
    write_image(output, hdr)
    png = output.with_suffix(".png")
    if backend.output_kind == DISPLAY:  # already an image in [0, 1] (Mertens)
        write_image(png, np.clip(hdr, 0.0, 1.0))
    else:
        write_image(png, tonemap_for_display(hdr))
    return output, png
