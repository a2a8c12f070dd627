"""mu-law tonemapping, the differentiable tonemapper used by every loss and for display.

T(H) = log(1 + mu * H) / log(1 + mu) maps linear radiance H in [0, 1] to [0, 1].
"""

from __future__ import annotations

import math

from keras import ops

from hdr_keras.constants import MU


def mu_law(hdr, mu: float = MU):
    """Tonemaps linear HDR `hdr` (expected in [0, 1]; values above 1 map above 1)."""
    hdr = ops.convert_to_tensor(hdr)
    return ops.log1p(mu * ops.maximum(hdr, 0.0)) / math.log1p(mu)


def inverse_mu_law(tonemapped, mu: float = MU):
    """Inverse of `mu_law`: maps mu-law values back to linear radiance."""
    tonemapped = ops.convert_to_tensor(tonemapped)
    return ops.expm1(tonemapped * math.log1p(mu)) / mu


def display_tonemap(hdr, peak=None, mu: float = MU):
    """Display version of linear HDR [..., H, W, C] in [0, 1]: mu_law(clip(hdr / peak)).

    Args:
        hdr: linear radiance; negative values count as 0.
        peak: value mapped to white, broadcastable to `hdr` (for example
            [B, 1, 1, 1]); default: each image's own maximum. An all-zero image
            (peak 0) stays 0.
    """
    hdr = ops.maximum(ops.convert_to_tensor(hdr, dtype="float32"), 0.0)
    if peak is None:
        peak = ops.max(hdr, axis=(-3, -2, -1), keepdims=True)
    peak = ops.convert_to_tensor(peak, dtype=hdr.dtype)
    safe_peak = ops.where(peak > 0.0, peak, 1.0)
    normalised = ops.where(peak > 0.0, hdr / safe_peak, 0.0)
    return mu_law(ops.clip(normalised, 0.0, 1.0), mu)
