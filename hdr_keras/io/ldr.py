"""8/16-bit PNG and TIFF, and JPEG, through OpenCV; float32 RGB in [0, 1].

This module is the only place in hdr-keras where OpenCV's BGR channel order meets the
project's RGB order: `swap_red_blue` converts in both directions and is used by both
`read_ldr` and `write_ldr`.

Values are display-referred (as the camera or tool wrote them, not linearised):
uint8 / 255 and uint16 / 65535. Grey images are replicated to 3 channels, alpha is
dropped, and EXIF orientation is applied (as image viewers do; OpenCV does it for
every flag but IMREAD_UNCHANGED). A float TIFF is returned as stored, in float32.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from hdr_keras.io.errors import ImageIOError, PathLike, check_image_array

LDR_EXTENSIONS = (".png", ".tif", ".tiff", ".jpg", ".jpeg")
_JPEG_EXTENSIONS = (".jpg", ".jpeg")
_READ_FLAGS = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR  # keeps 16 bits and grey
_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def swap_red_blue(image: np.ndarray) -> np.ndarray:
    """RGB <-> BGR for [..., 3] arrays (its own inverse); [H, W] grey is unchanged."""
    return image if image.ndim == 2 else image[..., ::-1]


def read_ldr(path: PathLike) -> np.ndarray:
    """Reads a PNG/TIFF/JPEG file as float32 [H, W, 3] RGB in [0, 1].

    Missing file -> FileNotFoundError; a file OpenCV cannot decode (truncated,
    corrupt, unsupported) -> ImageIOError.
    """
    with open(path, "rb") as stream:
        encoded = np.frombuffer(stream.read(), dtype=np.uint8)
    image = cv2.imdecode(encoded, _READ_FLAGS) if encoded.size else None
    if image is None:
        raise ImageIOError(path, "OpenCV cannot decode this image (truncated/corrupt?)")
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]  # BGRA -> BGR
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype in _SCALE:
        image = image.astype(np.float32) / np.float32(_SCALE[image.dtype])
    elif np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32, copy=False)
    else:
        raise ImageIOError(path, f"unsupported pixel type {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=-1)
    return np.ascontiguousarray(swap_red_blue(image))


def write_ldr(
    path: PathLike, image: np.ndarray, bit_depth: int = 8, quality: int = 95
) -> None:
    """Writes [H, W, 3] RGB (or [H, W] grey) in [0, 1] as PNG, TIFF or JPEG.

    Args:
        path: destination; its extension picks the format (written directly;
            `hdr_keras.io.write_image` is atomic).
        image: float values in [0, 1] (clipped, then rounded to the bit depth; NaN
            raises), or uint8 / uint16 arrays, read as value / 255 and value / 65535.
        bit_depth: 8 or 16; 16 only for PNG and TIFF.
        quality: JPEG quality, 0 to 100 (ignored for PNG/TIFF).
    """
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in LDR_EXTENSIONS:
        raise ImageIOError(path, f"not an LDR extension (expected {LDR_EXTENSIONS})")
    if bit_depth not in (8, 16) or (bit_depth == 16 and extension in _JPEG_EXTENSIONS):
        raise ImageIOError(
            path, f"bit_depth={bit_depth} is not possible for {extension}"
        )
    image = check_image_array(path, image)
    if image.dtype in _SCALE:
        image = image / _SCALE[image.dtype]
    elif image.dtype.kind in "ui":
        raise ImageIOError(
            path, f"integer images must be uint8 or uint16, not {image.dtype}"
        )
    if np.isnan(image).any():
        raise ImageIOError(path, "cannot quantise NaN values")
    top = 255 if bit_depth == 8 else 65535
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    quantised = np.round(np.clip(image, 0.0, 1.0) * top).astype(dtype)
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
        if extension in _JPEG_EXTENSIONS
        else []
    )
    ok, encoded = cv2.imencode(
        extension, np.ascontiguousarray(swap_red_blue(quantised)), params
    )
    if not ok:
        raise ImageIOError(path, "OpenCV could not encode the image")
    with open(path, "wb") as stream:
        stream.write(encoded.tobytes())
