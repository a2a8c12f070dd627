"""The error raised by every image and exposure-file reader/writer in `hdr_keras.io`.

`ImageIOError` always names the file, e.g.
``memorial.hdr: truncated RLE scanline 37 of 768``. Missing files raise the builtin
`FileNotFoundError` (which names the path) instead.
"""

from __future__ import annotations

import os
from typing import Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]


class ImageIOError(ValueError):
    """A file could not be decoded or encoded; the message starts with its path.

    Args:
        path: the file concerned.
        reason: what went wrong and where (scanline, line number, channel layout...).
    """

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason))


def check_image_array(path: PathLike, array) -> np.ndarray:
    """Returns `array` as a numpy array of shape [H, W] or [H, W, 3] (else raises).

    Used by every writer so that a bad array fails before any byte is written.
    """
    array = np.asarray(array)
    shape_ok = array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == 3)
    if not shape_ok or array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageIOError(
            path, f"expected an image of shape [H, W, 3] or [H, W], got {array.shape}"
        )
    if not (np.issubdtype(array.dtype, np.floating) or array.dtype.kind in "ui"):
        raise ImageIOError(path, f"cannot write an array of dtype {array.dtype}")
    return array
