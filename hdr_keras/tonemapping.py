"""Tone mapping for display: the one function behind every preview and report image.

`tonemap(hdr, operator, peak)` turns linear radiance into an image in [0, 1]; it
makes `training.main`'s previews (`training.callbacks.PreviewImages`),
`serving.predict`'s PNG (`hdr_keras.inference.files`) and the pictures of
`training.evaluate --compare --report`. Operators (`Tonemap.operator`):

- "mu_law" (default): `hdr_keras.ops.tonemap.display_tonemap`, i.e.
  mu_law(clip(hdr / peak, 0, 1)), the view the training losses and PSNR-mu use;
- "exposure": clip(hdr / peak * 2**stops, 0, 1) ** (1 / gamma), a camera-like
  view at `stops` above (or below) the peak's exposure;
- "reinhard": OpenCV's global Reinhard operator (`cv2.createTonemapReinhard`,
  with OpenCV's defaults: gamma 1, intensity 0, light and colour adaptation 1 and
  0), the operator Kalantari's display-referred ground truths were made with.

`peak` is the radiance mapped to white: a number, an array broadcastable to the
batch ([B, 1, 1, 1]) or None for each image's own maximum. Text form for CLI flags
(`parse_tonemap`): "mu_law", "exposure:STOPS[:GAMMA]" (e.g. "exposure:+2"),
"reinhard".
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hdr_keras.constants import GAMMA

MU_LAW, EXPOSURE, REINHARD = "mu_law", "exposure", "reinhard"
OPERATORS = (MU_LAW, EXPOSURE, REINHARD)
BAND_ROWS = 256  # rows per band of the pointwise operators (bounded memory)


@dataclasses.dataclass(frozen=True)
class Tonemap:
    """A tone mapping: `operator` (OPERATORS), and the exposure view's settings.

    Attributes:
        operator: "mu_law", "exposure" or "reinhard".
        stops: exposure change in stops applied before clipping ("exposure" only).
        gamma: display gamma ("exposure" only, > 0).
    """

    operator: str = MU_LAW
    stops: float = 0.0
    gamma: float = GAMMA

    def __post_init__(self):
        if self.operator not in OPERATORS:
            raise ValueError(
                f"--tonemap: unknown operator {self.operator!r}; valid: "
                f"{', '.join(OPERATORS)}"
            )
        if not self.gamma > 0:
            raise ValueError(f"--tonemap: gamma must be > 0, got {self.gamma}")

    def describe(self) -> str:
        """A sentence naming the operator and its settings (shown in reports)."""
        if self.operator == MU_LAW:
            return "mu-law (mu = 5000) of radiance / peak, clipped to [0, 1]"
        if self.operator == EXPOSURE:
            return (
                f"exposure {self.stops:+g} stops from the peak, clipped, "
                f"gamma {self.gamma:g}"
            )
        return "OpenCV Reinhard (global; OpenCV's default parameters)"


def parse_tonemap(text: str) -> Tonemap:
    """A `Tonemap` from its flag form (module docstring); ValueError naming it."""
    parts = [part.strip() for part in str(text).split(":")]
    operator, values = parts[0], parts[1:]
    if operator != EXPOSURE and values:
        raise ValueError(f"--tonemap={text}: only 'exposure' takes values")
    if len(values) > 2:
        raise ValueError(f"--tonemap={text}: expected exposure:STOPS[:GAMMA]")
    try:
        numbers = [float(value) for value in values]
    except ValueError:
        raise ValueError(f"--tonemap={text}: STOPS and GAMMA must be numbers") from None
    return Tonemap(operator, *numbers)


def _peaks(hdr: np.ndarray, peak) -> np.ndarray:
    """`peak` as an array broadcastable to `hdr` (default: each image's maximum)."""
    if peak is None:
        peak = np.max(hdr, axis=(-3, -2, -1), keepdims=True) if hdr.size else 0.0
    return np.asarray(peak, dtype=np.float32)


def _reinhard(image: np.ndarray) -> np.ndarray:
    """OpenCV's default Reinhard of one RGB image [H, W, 3] (non-negative)."""
    import cv2

    bgr = np.ascontiguousarray(image[..., ::-1], dtype=np.float32)
    if not np.max(bgr, initial=0.0) > 0:
        return np.zeros_like(image, dtype=np.float32)
    mapped = cv2.createTonemapReinhard().process(bgr)[..., ::-1]
    return np.clip(np.nan_to_num(mapped), 0.0, 1.0).astype(np.float32)


def tonemap(hdr, operator: Tonemap | str = MU_LAW, peak=None) -> np.ndarray:
    """Linear radiance [..., H, W, 3] -> float32 display image in [0, 1], same shape.

    Args:
        hdr: linear radiance (numpy or tensor); negative values count as 0.
        operator: a `Tonemap` or its flag text (default mu-law, `parse_tonemap`).
        peak: radiance shown as white (module docstring); an all-zero image stays 0.
    """
    from hdr_keras.ops.tonemap import display_tonemap

    settings = operator if isinstance(operator, Tonemap) else parse_tonemap(operator)
    hdr = np.maximum(np.asarray(hdr, dtype=np.float32), 0.0)
    if hdr.ndim < 3 or hdr.shape[-1] != 3:
        raise ValueError(f"tonemap expects [..., H, W, 3] radiance, got {hdr.shape}")
    peaks = _peaks(hdr, peak)
    result = np.empty(hdr.shape, np.float32)
    if settings.operator == REINHARD:
        safe = np.where(peaks > 0, peaks, 1.0)
        flat = (hdr / safe).reshape((-1, *hdr.shape[-3:]))
        images = [_reinhard(image) for image in flat]
        return np.stack(images).reshape(hdr.shape) if images else result
    # pointwise operators: row bands along H, one peak for the whole image
    band_peaks = np.broadcast_to(peaks, peaks.shape)
    for row in range(0, hdr.shape[-3], BAND_ROWS):
        band = hdr[..., row : row + BAND_ROWS, :, :]
        if settings.operator == MU_LAW:
            mapped = np.asarray(display_tonemap(band, peak=band_peaks))
        else:
            safe = np.where(band_peaks > 0, band_peaks, 1.0)
            scaled = np.where(band_peaks > 0, band / safe, 0.0) * 2.0**settings.stops
            mapped = np.clip(scaled, 0.0, 1.0) ** (1.0 / settings.gamma)
        result[..., row : row + BAND_ROWS, :, :] = mapped
    return result
