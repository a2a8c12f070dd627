"""Readers of the small text files that describe a bracketed exposure stack.

- `read_exposure_biases`: Kalantari's `exposure.txt`, one bias in stops per line
  ("0\\n2\\n4"); the stack methods take exposures in stops.
- `read_exposure_times`: one exposure time in seconds per line: "0.25", "8", "1/250".
- `read_image_list`: OpenCV-style "<image file> <value>" lines, where the value is
  1/t by default (as in opencv_extra's list.txt and Debevec's memorial list).

Everywhere: blank lines and '#' comments (whole-line or trailing) are ignored, and a
line that cannot be parsed raises ImageIOError naming the file and the line number.
"""

from __future__ import annotations

import math

import numpy as np

from hdr_keras.io.errors import ImageIOError, PathLike

IMAGE_LIST_VALUES = ("inverse_time", "time")


def read_exposure_biases(path: PathLike) -> np.ndarray:
    """Exposure biases in stops, float32 [N], in file order (e.g. [0, 2, 4])."""
    values = [
        _parse_number(path, number, line, positive=False)
        for number, line in _content_lines(path)
    ]
    return np.asarray(values, dtype=np.float32)


def read_exposure_times(path: PathLike) -> np.ndarray:
    """Exposure times in seconds, float64 [N] (> 0), in file order; "1/250" allowed."""
    values = [
        _parse_number(path, number, line) for number, line in _content_lines(path)
    ]
    return np.asarray(values, dtype=np.float64)


def read_image_list(
    path: PathLike, value: str = "inverse_time"
) -> list[tuple[str, float]]:
    """Parses "<image file> <value>" lines into [(file name as written, seconds)].

    Args:
        path: the list file. File names are returned as written (relative names are
            relative to the list's folder by convention).
        value: meaning of the second column: "inverse_time" (1/t, OpenCV's
            convention: 0.03125 means 32 s) or "time" (t in seconds).
    """
    if value not in IMAGE_LIST_VALUES:
        raise ValueError(f"value must be one of {IMAGE_LIST_VALUES}, got {value!r}")
    entries = []
    for number, line in _content_lines(path):
        fields = line.rsplit(None, 1)
        if len(fields) != 2:
            raise ImageIOError(
                path, f"line {number}: expected '<image file> <value>', got {line!r}"
            )
        parsed = _parse_number(path, number, fields[1])
        seconds = 1.0 / parsed if value == "inverse_time" else parsed
        entries.append((fields[0], seconds))
    return entries


def _content_lines(path: PathLike) -> list[tuple[int, str]]:
    """(1-based line number, text) of every line that is not blank or a comment."""
    with open(path, "r", encoding="utf-8-sig") as stream:
        raw_lines = stream.read().splitlines()
    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if text:
            lines.append((number, text))
    if not lines:
        raise ImageIOError(path, "no values found")
    return lines


def _parse_number(
    path: PathLike, number: int, text: str, positive: bool = True
) -> float:
    """Parses "0.25", "8", "-2" or "1/250"; finite, and > 0 when `positive`."""
    try:
        numerator, _, denominator = text.partition("/")
        result = float(numerator) / float(denominator) if denominator else float(text)
    except (ValueError, ZeroDivisionError):
        result = math.nan
    if not math.isfinite(result) or (positive and result <= 0):
        kind = "a positive number" if positive else "a number"
        raise ImageIOError(path, f"line {number}: expected {kind}, got {text!r}")
    return result
