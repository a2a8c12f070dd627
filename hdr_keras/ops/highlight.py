"""Saturation (highlight) masks and HDRCNN's log-domain conversions.

HDRCNN (Eilertsen et al. 2017) blends the linearised input with the network's
prediction where the input is close to saturation:
    alpha = clip((max_c(x) - tau) / (1 - tau), 0, 1)
and predicts log radiance y, with prediction exp(y) - eps.
"""

from __future__ import annotations

from keras import ops

from hdr_keras.ops.camera import inverse_curve_gamma
from hdr_keras.constants import HDRCNN_EPS, HDRCNN_INVERSE_CURVE_EXPONENT, HDRCNN_TAU


def highlight_mask(image, tau: float = HDRCNN_TAU):
    """Per-pixel blend weight [..., H, W, 1] in [0, 1] from the max over channels.

    `image` is display-referred LDR in [0, 1] (or linear HDR scaled so that
    saturation is at 1, as HDRCNN's loss uses it on the target).
    """
    peak = ops.max(image, axis=-1, keepdims=True)
    return ops.clip((peak - tau) / (1.0 - tau), 0.0, 1.0)


def linearize_hdrcnn(ldr, exponent: float = HDRCNN_INVERSE_CURVE_EXPONENT):
    """HDRCNN's assumed inverse camera curve f^-1(x) = x ** exponent on LDR in [0, 1]."""
    return inverse_curve_gamma(ops.clip(ldr, 0.0, 1.0), exponent)


def to_log_hdr(hdr, eps: float = HDRCNN_EPS):
    """Linear radiance -> HDRCNN's log domain, log(H + eps)."""
    return ops.log(ops.maximum(hdr, 0.0) + eps)


def from_log_hdr(log_hdr, eps: float = HDRCNN_EPS):
    """HDRCNN's log domain -> linear radiance, exp(y) - eps (>= 0)."""
    return ops.maximum(ops.exp(log_hdr) - eps, 0.0)
