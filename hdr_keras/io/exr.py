"""OpenEXR reader and writer on the official `OpenEXR` bindings (>= 3.3 `File` API).

Reading returns float32 [H, W, 3] linear RGB of the first part's data window, whatever
order the channels are stored in (files often store them alphabetically, B, G, R):
channels are looked up by name. Layouts handled:
- R, G, B (+ A, dropped; any other channels are ignored); half, float or uint;
- a single colour channel (Y, or just one of R/G/B) -> replicated to 3 channels;
- luminance/chroma Y, RY, BY (RY/BY usually subsampled 2x2) -> RGB, inverting
  OpenEXR's RgbaYca encoding RY = (R - Y) / Y, BY = (B - Y) / Y with the luminance
  weights of the file's chromaticities (Rec. 709 / D65 when absent); the chroma planes
  are upsampled bilinearly;
- scanline and tiled files; a channel may carry a layer prefix ('beauty.R') if it is
  the only one of that name.
NaN and Inf values are returned as stored.
"""

from __future__ import annotations

import errno
import os

import numpy as np
import OpenEXR

from hdr_keras.io.errors import ImageIOError, PathLike, check_image_array
from hdr_keras.io.radiance import primaries_to_xyz

EXR_EXTENSIONS = (".exr",)
# OpenEXR's default chromaticities: Rec. 709 primaries, D65 white.
REC709_PRIMARIES = (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290)
_HALF_MAX = 65504.0


def read_exr(path: PathLike) -> np.ndarray:
    """Reads the first part of an OpenEXR file as float32 [H, W, 3] linear RGB.

    Missing file -> FileNotFoundError; undecodable file or a channel layout that has no
    RGB meaning (e.g. only depth 'Z') -> ImageIOError naming the channels found.
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)
    try:
        with OpenEXR.File(name, separate_channels=True) as exr:
            header = exr.header(0)  # read inside the block: closing clears it
            window_min, window_max = (
                np.array(corner) for corner in header["dataWindow"]
            )
            chromaticities = header.get("chromaticities")
            channels = {
                key: (np.array(ch.pixels), ch.xSampling, ch.ySampling)  # copies
                for key, ch in exr.channels(0).items()
            }
    except (RuntimeError, ValueError, OSError, TypeError, KeyError) as error:
        raise ImageIOError(path, f"cannot decode OpenEXR file ({error})") from None
    width, height = (window_max - window_min + 1).tolist()
    planes = {key: _full_plane(value, height, width) for key, value in channels.items()}
    if chromaticities is None:
        chromaticities = REC709_PRIMARIES
    rgb = _to_rgb(path, planes, chromaticities)
    return rgb.astype(np.float32, copy=False)


def write_exr(path: PathLike, image: np.ndarray, half: bool = False) -> None:
    """Writes float [H, W, 3] RGB (or [H, W] as a single 'Y' channel), ZIP-compressed.

    Args:
        path: destination (written directly; `hdr_keras.io.write_image` is atomic).
        image: linear values; NaN/Inf are stored as they are.
        half: store float16 instead of float32. Finite values beyond the half range
            are clipped to +-65504 rather than becoming Inf.
    """
    image = check_image_array(path, image).astype(np.float32)
    if half:
        finite = np.isfinite(image)
        image = np.where(finite, np.clip(image, -_HALF_MAX, _HALF_MAX), image)
        image = image.astype(np.float16)
    if image.ndim == 2:
        channels = {"Y": np.ascontiguousarray(image)}
    else:
        channels = {c: np.ascontiguousarray(image[..., i]) for i, c in enumerate("RGB")}
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    try:
        with OpenEXR.File(header, channels) as exr:
            exr.write(os.fspath(path))
    except (RuntimeError, ValueError, TypeError) as error:
        raise ImageIOError(path, f"cannot write OpenEXR file ({error})") from None


def _to_rgb(path: PathLike, planes: dict, chromaticities) -> np.ndarray:
    """Builds [H, W, 3] RGB from named channel planes (see the module docstring)."""
    found = {key: _find(planes, key) for key in ("R", "G", "B", "Y", "RY", "BY")}
    rgb = [found[key] for key in "RGB"]
    if all(plane is not None for plane in rgb):
        return np.stack(rgb, axis=-1)
    luminance = found["Y"]
    if luminance is not None and found["RY"] is not None and found["BY"] is not None:
        chroma = found["RY"], found["BY"]
        return _luminance_chroma_to_rgb(luminance, *chroma, chromaticities)
    present = [plane for plane in rgb + [luminance] if plane is not None]
    if len(present) == 1:
        return np.repeat(present[0][..., None], 3, axis=-1)
    raise ImageIOError(
        path,
        f"cannot build RGB from the channels {sorted(planes)} (expected R,G,B, "
        "Y,RY,BY, or a single Y/R/G/B channel)",
    )


def _find(planes: dict, key: str):
    """The plane named `key`, else the only one named '<layer>.<key>', else None."""
    if key in planes:
        return planes[key]
    layered = [name for name in planes if name.endswith("." + key)]
    return planes[layered[0]] if len(layered) == 1 else None


def _luminance_chroma_to_rgb(y, ry, by, chromaticities) -> np.ndarray:
    """Inverts OpenEXR's RgbaYca encoding: R = (RY + 1) Y, B = (BY + 1) Y, G from Y."""
    weights = primaries_to_xyz(chromaticities)[1]
    red = (ry + 1.0) * y
    blue = (by + 1.0) * y
    green = (y - weights[0] * red - weights[2] * blue) / weights[1]
    return np.stack([red, green, blue], axis=-1)


def _full_plane(value: tuple, height: int, width: int) -> np.ndarray:
    """float32 [height, width] plane; subsampled channels are upsampled bilinearly."""
    pixels, x_sampling, y_sampling = value
    plane = pixels.astype(np.float32)
    if plane.shape == (height, width):
        return plane
    plane = _interpolate(plane, np.arange(height) / y_sampling, axis=0)
    return _interpolate(plane, np.arange(width) / x_sampling, axis=1)


def _interpolate(plane: np.ndarray, positions: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation of `plane` at fractional sample `positions` along `axis`."""
    last = plane.shape[axis] - 1
    positions = np.clip(positions, 0, last)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, last)
    shape = [1, 1]
    shape[axis] = -1
    frac = (positions - low).astype(np.float32).reshape(shape)
    low_values = np.take(plane, low, axis=axis)
    blend = low_values + frac * (np.take(plane, high, axis=axis) - low_values)
    return np.where(frac == 0, low_values, blend)  # keeps Inf samples exact
