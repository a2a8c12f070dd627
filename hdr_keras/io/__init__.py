"""Image and exposure-file IO: one entry point per direction, dispatching on extension.

`read_image(path)` returns float32 [H, W, 3] RGB (channel order is always RGB here;
OpenCV's BGR is converted inside `ldr.py` and nowhere else). Value ranges:
- LDR formats (.png .tif .tiff .jpg .jpeg): display-referred, in [0, 1]
  (uint8 / 255, uint16 / 65535), not linearised;
- HDR formats (.hdr .pic .rgbe Radiance, .exr OpenEXR): linear radiance as stored
  (unbounded, not normalised; EXR may hold negatives, NaN or Inf).

`write_image(path, array)` writes atomically: the data goes to a temporary file in the
destination folder which then replaces the destination (`os.replace`), so a failed or
interrupted write never leaves a partial file. Parent folders are created.
"""

from __future__ import annotations

import os
import uuid
from typing import Callable

import numpy as np

from hdr_keras.io.errors import ImageIOError, PathLike, check_image_array
from hdr_keras.io.exposure import (
    read_exposure_biases,
    read_exposure_times,
    read_image_list,
)
from hdr_keras.io.exr import EXR_EXTENSIONS, read_exr, write_exr
from hdr_keras.io.ldr import LDR_EXTENSIONS, read_ldr, write_ldr
from hdr_keras.io.radiance import RADIANCE_EXTENSIONS, read_hdr, write_hdr

SUPPORTED_EXTENSIONS = RADIANCE_EXTENSIONS + EXR_EXTENSIONS + LDR_EXTENSIONS
HDR_EXTENSIONS = RADIANCE_EXTENSIONS + EXR_EXTENSIONS

_READERS: dict[str, Callable[..., np.ndarray]] = {
    **{ext: read_hdr for ext in RADIANCE_EXTENSIONS},
    **{ext: read_exr for ext in EXR_EXTENSIONS},
    **{ext: read_ldr for ext in LDR_EXTENSIONS},
}
_WRITERS: dict[str, Callable[..., None]] = {
    **{ext: write_hdr for ext in RADIANCE_EXTENSIONS},
    **{ext: write_exr for ext in EXR_EXTENSIONS},
    **{ext: write_ldr for ext in LDR_EXTENSIONS},
}

__all__ = [
    "ImageIOError",
    "SUPPORTED_EXTENSIONS",
    "HDR_EXTENSIONS",
    "LDR_EXTENSIONS",
    "is_hdr_path",
    "read_image",
    "write_image",
    "read_exposure_biases",
    "read_exposure_times",
    "read_image_list",
]


def _extension(path: PathLike, table: dict) -> str:
    """Lower-case extension of `path`, checked against the supported ones."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in table:
        raise ImageIOError(
            path,
            f"unsupported extension {extension or '(none)'!r}; supported: "
            + " ".join(SUPPORTED_EXTENSIONS),
        )
    return extension


def is_hdr_path(path: PathLike) -> bool:
    """True for Radiance/OpenEXR file names (linear radiance), False for LDR ones."""
    return os.path.splitext(os.fspath(path))[1].lower() in HDR_EXTENSIONS


def read_image(path: PathLike, **options) -> np.ndarray:
    """Reads any supported image as float32 [H, W, 3] RGB (ranges: module docstring).

    `options` go to the format reader (e.g. `apply_exposure=False` for .hdr).
    Missing file -> FileNotFoundError; unknown extension or undecodable file ->
    ImageIOError naming the file.
    """
    return _READERS[_extension(path, _READERS)](path, **options)


def write_image(path: PathLike, array, **options) -> None:
    """Writes [H, W, 3] RGB or [H, W] grey atomically, in the format of the extension.

    Options by format: .png/.tif/.tiff `bit_depth=8|16`; .jpg/.jpeg `quality=95`;
    .hdr/.pic/.rgbe `rle=True`; .exr `half=False`. LDR values are clipped to [0, 1].
    """
    extension = _extension(path, _WRITERS)
    array = check_image_array(path, array)
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    os.makedirs(folder, exist_ok=True)
    base = os.path.basename(os.fspath(path))
    # Same folder (os.replace is atomic only within a file system); the extension is
    # kept because OpenCV picks the encoder from it.
    temporary = os.path.join(folder, f".{base}.{uuid.uuid4().hex}.tmp{extension}")
    try:
        _WRITERS[extension](temporary, array, **options)
        os.replace(temporary, path)
    except BaseException as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        if isinstance(error, ImageIOError) and error.path == temporary:
            raise ImageIOError(path, error.reason) from None
        raise
