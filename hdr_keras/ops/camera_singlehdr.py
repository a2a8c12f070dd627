"""SingleHDR's image-formation model (Liu et al. 2020, METHODS.md section 5).

Linear HDR radiance -> 8-bit (JPEG) LDR photo, keeping every intermediate so that
each of SingleHDR's networks can be supervised on the step it reverses:

1. normalise: H <- LIU_HDR_MEAN * H / (mean(H) + 1e-6) (mean over all pixels and
   channels, as the official `dataset.py`: `0.5 * hdr / (mean + 1e-6)`);
2. exposure: t = 2 ** U(-3, 3); "hdr" = H t;
3. noise, per channel c, as the official training scripts: shot noise with
   standard deviation sigma_s,c H t, sigma_s,c ~ U(0, 0.08 / 6), and read noise
   sigma_r,c ~ U(0, 0.005); negative values -> 0;
4. clipping to [0, 1]: "linear_clipped";
5. a random camera curve f (`hdr_keras.ops.crf.sample_curves`) applied by linear
   interpolation (`apply_curve`): "ldr_unquantized" = f(linear_clipped);
6. 8-bit quantisation and JPEG with quality U{90..100}: "ldr" (on the 1/255 grid).

Randomness comes from one numpy Generator; the curve ops, quantisation and JPEG
reuse the TF functions of `hdr_keras.ops.crf` and `hdr_keras.ops.camera`. Runs
eagerly on numpy arrays (records are written with it, `tfrecords.sources.camera`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hdr_keras import constants as C
from hdr_keras.ops.camera import jpeg, quantize
from hdr_keras.ops.crf import CurveBasis, apply_curve, builtin_basis, sample_curves

_NORMALISATION_EPS = 1e-6  # as the official code: 0.5 * hdr / (mean + 1e-6)


@dataclasses.dataclass(frozen=True)
class SingleHDRCameraConfig:
    """Distributions of the SingleHDR camera's random parameters.

    Args:
        hdr_mean: the HDR is scaled to this mean before the exposure.
        exposure_stops_range: t = 2 ** U(lo, hi).
        shot_noise_max: per-channel sigma_s ~ U(0, max); noise std sigma_s * H t.
        read_noise_max: per-channel sigma_r ~ U(0, max); noise std sigma_r.
        curve_spread: scale of the curve-weight spread (`sample_curves` `spread`).
        bits: quantisation bit depth.
        jpeg: JPEG-compress after quantisation.
        jpeg_quality_range: inclusive integer range of the JPEG quality.
    """

    hdr_mean: float = C.LIU_HDR_MEAN
    exposure_stops_range: tuple[float, float] = C.LIU_EXPOSURE_STOPS_RANGE
    shot_noise_max: float = C.LIU_SHOT_NOISE_MAX
    read_noise_max: float = C.LIU_READ_NOISE_MAX
    curve_spread: float = 1.0
    bits: int = C.LDR_BITS
    jpeg: bool = True
    jpeg_quality_range: tuple[int, int] = C.LIU_JPEG_QUALITY_RANGE

    def __post_init__(self):
        for name in ("exposure_stops_range", "jpeg_quality_range"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name} must be (low, high) with low <= high")
        if not 0 <= self.jpeg_quality_range[0] <= self.jpeg_quality_range[1] <= 100:
            raise ValueError("jpeg_quality_range must lie in [0, 100]")
        if self.hdr_mean <= 0:
            raise ValueError(f"hdr_mean must be positive, got {self.hdr_mean}")
        if min(self.shot_noise_max, self.read_noise_max, self.curve_spread) < 0:
            raise ValueError("noise maxima and curve_spread must be >= 0")
        if not 1 <= self.bits <= 16:
            raise ValueError(f"bits must be in [1, 16], got {self.bits}")


def singlehdr_camera(
    hdr: np.ndarray,
    rng: np.random.Generator,
    basis: CurveBasis | None = None,
    config: SingleHDRCameraConfig = SingleHDRCameraConfig(),
) -> dict:
    """Simulates a photo of linear radiance `hdr` with SingleHDR's formation model.

    Args:
        hdr: float [H, W, 3] linear radiance of any non-negative scale (negative
            values are set to 0), RGB; finite.
        rng: numpy Generator; the same generator state gives the same shot.
        basis: curve basis the camera curve is drawn from (default: built-in).
        config: parameter distributions.

    Returns:
        A dict of numpy arrays:
        - "hdr": float32 [H, W, 3], H t: the normalised, exposed radiance (not
          clipped, no noise), the final HDR target;
        - "linear_clipped": float32 [H, W, 3], clip(H t + noise, 0, 1);
        - "ldr_unquantized": float32 [H, W, 3], crf(linear_clipped) in [0, 1];
        - "ldr": float32 [H, W, 3] in [0, 1] on the 1/255 grid (8 bits): the
          quantised, JPEG-compressed photo;
        - "crf", "inverse_crf": float32 [1024], the camera curve and its inverse
          sampled at linspace(0, 1, 1024);
        - "exposure": float t times the normalisation scale (so "hdr" = exposure *
          input hdr); "stops": log2 t;
        - "shot_noise", "read_noise": float32 [3] per-channel sigmas;
        - "jpeg_quality": int (0 when JPEG is off).
    """
    hdr = np.asarray(hdr, dtype=np.float32)
    if hdr.ndim != 3 or hdr.shape[-1] != 3:
        raise ValueError(f"singlehdr_camera: hdr must be [H, W, 3], got {hdr.shape}")
    if not np.all(np.isfinite(hdr)):
        raise ValueError("singlehdr_camera: hdr contains NaN or Inf values")
    basis = basis if basis is not None else builtin_basis()
    hdr = np.maximum(hdr, 0.0)
    scale = config.hdr_mean / (float(hdr.mean(dtype=np.float64)) + _NORMALISATION_EPS)
    stops = rng.uniform(*config.exposure_stops_range)
    exposure = np.float32(scale * 2.0**stops)
    exposed = hdr * exposure

    shot = rng.uniform(0.0, config.shot_noise_max, 3).astype(np.float32)
    read = rng.uniform(0.0, config.read_noise_max, 3).astype(np.float32)
    noise = rng.standard_normal((2,) + exposed.shape, dtype=np.float32)
    noisy = np.maximum(exposed + noise[0] * shot * exposed + noise[1] * read, 0.0)
    linear_clipped = np.minimum(noisy, 1.0)

    forward, inverse = sample_curves(rng, basis, 1, config.curve_spread)
    ldr_unquantized = apply_curve(linear_clipped[None], forward)[0]
    ldr = quantize(ldr_unquantized, config.bits)
    quality = 0
    if config.jpeg:
        lo, hi = config.jpeg_quality_range
        quality = int(rng.integers(lo, hi + 1))
        # The codec works on 8 bits; quantise again so that the result is exactly
        # k / 255 (the decoder returns k * (1 / 255), which may differ by an ulp).
        ldr = quantize(jpeg(ldr, quality), C.LDR_BITS)
    return {
        "hdr": exposed,
        "linear_clipped": linear_clipped.astype(np.float32),
        "ldr_unquantized": np.asarray(ldr_unquantized, dtype=np.float32),
        "ldr": np.asarray(ldr, dtype=np.float32),
        "crf": forward[0],
        "inverse_crf": inverse[0],
        "exposure": float(exposure),
        "stops": float(stops),
        "shot_noise": shot,
        "read_noise": read,
        "jpeg_quality": quality,
    }
