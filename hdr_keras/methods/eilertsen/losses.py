"""HDRCNN's training losses (Eilertsen et al. 2017).

They compare the network's log-radiance prediction `log_pred` = y with the linear
target H, only where the TARGET is near or above saturation (mask alpha from
`highlight_mask(H)`):
- masked log L2: mean((alpha * (y - log(H + eps)))^2);
- illuminance + reflectance: lambda * mean(alpha (I_hat - I)^2)
  + (1 - lambda) * mean(alpha (R_hat - R)^2), with I = Gaussian blur of the log
  luminance and R = log H - I (per channel), as in the authors' training code.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from hdr_keras.constants import HDRCNN_EPS, HDRCNN_TAU
from hdr_keras.ops.color import luminance
from hdr_keras.ops.highlight import from_log_hdr, highlight_mask, to_log_hdr

# Illumination blur of the authors' code: 13 taps spanning +-2 standard deviations
# (plus half a tap), the 2-D kernel being sqrt(outer(k, k)) normalised.
HDRCNN_BLUR_SIZE = 13
HDRCNN_BLUR_NSIG = 2.0
HDRCNN_IR_LAMBDA = 0.5


def hdrcnn_blur_taps(size: int = HDRCNN_BLUR_SIZE, nsig: float = HDRCNN_BLUR_NSIG):
    """1-D factor t of the illumination kernel: the 2-D kernel is outer(t, t).

    The authors' kernel is sqrt(outer(k, k)) / sum with k the normal-CDF differences
    over `size` taps spanning +-nsig (plus half a tap); it factors as outer(t, t) with
    t = sqrt(k) / sum(sqrt(k)), so the blur runs as two 1-D convolutions.
    """
    interval = (2.0 * nsig + 1.0) / size
    edges = np.linspace(-nsig - interval / 2.0, nsig + interval / 2.0, size + 1)
    cdf = np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in edges])
    taps = np.sqrt(np.diff(cdf))
    return (taps / taps.sum()).astype(np.float32)


def hdrcnn_blur_kernel(size: int = HDRCNN_BLUR_SIZE, nsig: float = HDRCNN_BLUR_NSIG):
    """The 2-D illumination kernel [size, size] of HDRCNN's training code."""
    taps = hdrcnn_blur_taps(size, nsig)
    return np.outer(taps, taps)


def _log_luminance(linear, eps: float):
    return ops.log(luminance(linear) + eps)


def _blur(log_luminance):
    """Separable 'same' (zero-padded) blur of [B, H, W, 1], as the authors' conv2d."""
    taps = hdrcnn_blur_taps()
    vertical = ops.convert_to_tensor(taps[:, None, None, None])
    horizontal = ops.convert_to_tensor(taps[None, :, None, None])
    blurred = ops.conv(log_luminance, vertical, strides=1, padding="same")
    return ops.conv(blurred, horizontal, strides=1, padding="same")


def masked_log_l2(hdr_true, log_pred, tau: float = HDRCNN_TAU, eps: float = HDRCNN_EPS):
    """HDRCNN's plain loss: mean((alpha * (y - log(H + eps)))^2) over all values."""
    alpha = highlight_mask(hdr_true, tau)
    return ops.mean(ops.square((log_pred - to_log_hdr(hdr_true, eps)) * alpha))


def illuminance_reflectance_loss(
    hdr_true,
    log_pred,
    lam: float = HDRCNN_IR_LAMBDA,
    tau: float = HDRCNN_TAU,
    eps: float = HDRCNN_EPS,
):
    """HDRCNN's illuminance + reflectance loss on log prediction `log_pred` [B,H,W,3]."""
    alpha = highlight_mask(hdr_true, tau)
    ill_true = _blur(_log_luminance(hdr_true, eps))
    ill_pred = _blur(_log_luminance(from_log_hdr(log_pred, eps), eps))
    refl_true = to_log_hdr(hdr_true, eps) - ill_true
    refl_pred = log_pred - ill_pred
    per_value = lam * ops.square(ill_pred - ill_true) + (1.0 - lam) * ops.square(
        refl_pred - refl_true
    )
    return ops.mean(per_value * alpha)


@keras.saving.register_keras_serializable(package="hdr_keras")
class HDRCNNLoss(keras.losses.Loss):
    """HDRCNN training loss on (linear target, log prediction).

    Args:
        kind: "illuminance_reflectance" (paper default) or "masked_log_l2".
        lam: illuminance weight lambda of the illuminance + reflectance loss.
        tau: saturation threshold of the target mask.
    """

    KINDS = ("illuminance_reflectance", "masked_log_l2")

    def __init__(
        self,
        kind: str = "illuminance_reflectance",
        lam: float = HDRCNN_IR_LAMBDA,
        tau: float = HDRCNN_TAU,
        name: str = "hdrcnn_loss",
        **kwargs,
    ):
        if kind not in self.KINDS:
            raise ValueError(
                f"HDRCNNLoss kind must be one of {self.KINDS}, got {kind!r}"
            )
        super().__init__(name=name, **kwargs)
        self.kind = kind
        self.lam = float(lam)
        self.tau = float(tau)

    def call(self, y_true, y_pred):
        if self.kind == "masked_log_l2":
            return masked_log_l2(y_true, y_pred, self.tau)
        return illuminance_reflectance_loss(y_true, y_pred, self.lam, self.tau)

    def get_config(self):
        config = super().get_config()
        config.update({"kind": self.kind, "lam": self.lam, "tau": self.tau})
        return config
