"""Exposures of a bracket in stops: from a stops file, shutter times or EXIF.

The stack models take `exposure` in stops; every source here becomes stops
relative to the shortest exposure (the shortest frame is 0, twice as long is 1),
the rule of `hdr_keras.ops.exposure` (`relative_stops`, `stops_from_times`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from hdr_keras.io.exif import ExifError, exif_exposure_time
from hdr_keras.ops.exposure import relative_stops, stops_from_times

__all__ = [
    "ExifError",
    "exif_exposure_time",
    "exposures_from_exif",
    "read_stops",
    "relative_stops",
    "stops_from_times",
]


def exposures_from_exif(paths: Sequence[str | Path]) -> np.ndarray:
    """Stops relative to the shortest frame, from each file's EXIF ExposureTime."""
    return stops_from_times([exif_exposure_time(path) for path in paths])


def read_stops(
    paths: Sequence[str | Path],
    exposure_file: str | None = None,
    exposure_times_file: str | None = None,
) -> np.ndarray:
    """Stops [N] of the bracket `paths`, relative to the shortest, in file order.

    From `exposure_file` (stops per line), `exposure_times_file` (seconds per
    line, "1/250" allowed) or else the files' EXIF ExposureTime. ValueError
    naming the source when the count differs from the number of images.
    """
    from hdr_keras.io import read_exposure_biases, read_exposure_times

    if exposure_file and exposure_times_file:
        raise ValueError("pass only one of --exposure_file and --exposure_times_file")
    if exposure_file:
        stops = relative_stops(read_exposure_biases(exposure_file))
    elif exposure_times_file:
        stops = stops_from_times(read_exposure_times(exposure_times_file))
    else:
        try:
            stops = exposures_from_exif(paths)
        except ExifError as error:
            raise ValueError(
                f"{error}; pass --exposure_file (stops) or --exposure_times_file "
                "(seconds)"
            ) from None
    if len(stops) != len(paths):
        source = (
            f"--exposure_file={exposure_file}"
            if exposure_file
            else (
                f"--exposure_times_file={exposure_times_file}"
                if exposure_times_file
                else "the EXIF exposure times"
            )
        )
        raise ValueError(
            f"{len(paths)} images but {len(stops)} exposure values in {source} "
            "(one per image, in the order of --inputs)"
        )
    return stops
