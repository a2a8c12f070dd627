"""HDR image-quality metrics: PSNR and SSIM in the linear (-L) and mu-law (-mu) domains.

Value-range assumption for every function and metric here: linear HDR normalised so
that the reference (`y_true`) lies in [0, 1] (the convention of Kalantari 2017 and its
successors); RGB channel order. The mu-law variants clip both images to [0, 1] before
tonemapping with `mu_law` (peak value 1). The linear variants do not clip unless asked.

Functions take batched images [B, H, W, C] and return one value per image [B]; an
unbatched image [H, W, C] gives a scalar. Identical images would give PSNR = +inf,
which breaks averaging: PSNR is capped at `PSNR_CAP_DB` (100 dB).

SSIM is `tf.image.ssim` with the standard Gaussian window (11x11, sigma 1.5),
k1 = 0.01, k2 = 0.03, 'valid' filtering: images must be at least 11x11.

The Keras metrics (`PSNRMu`, `PSNRL`, `SSIMMu`, `SSIML`) average the per-image values
over every image seen (each image weighs the same, whatever the batch sizes).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from hdr_keras.constants import (
    MU,
    PSNR_CAP_DB,
    SSIM_FILTER_SIGMA,
    SSIM_FILTER_SIZE,
    SSIM_K1,
    SSIM_K2,
)
from hdr_keras.ops.tonemap import mu_law


def _pair(a, b):
    a = ops.convert_to_tensor(a, dtype="float32")
    b = ops.convert_to_tensor(b, dtype="float32")
    return a, b


def psnr(a, b, max_val=1.0):
    """PSNR in dB, 10 log10(max_val^2 / MSE), per image, capped at PSNR_CAP_DB.

    Args:
        a, b: images [B, H, W, C] or [H, W, C] in the same (any) value range.
        max_val: peak signal value of that range (1.0 for [0, 1]).

    Returns:
        [B] (a scalar for an unbatched image); PSNR_CAP_DB when a == b.
    """
    a, b = _pair(a, b)
    mse = ops.mean(ops.square(a - b), axis=(-3, -2, -1))
    safe_mse = ops.where(mse > 0.0, mse, 1.0)
    value = 10.0 * ops.log10(ops.square(max_val) / safe_mse)
    value = ops.where(mse > 0.0, value, PSNR_CAP_DB)
    return ops.minimum(value, PSNR_CAP_DB)


def psnr_l(y_true, y_pred, max_val=1.0):
    """Linear-domain PSNR (PSNR-L) of linear HDR normalised to [0, 1] (no clipping)."""
    return psnr(y_true, y_pred, max_val)


def _mu_tonemap(y_true, y_pred, mu):
    y_true, y_pred = _pair(y_true, y_pred)
    return (
        mu_law(ops.clip(y_true, 0.0, 1.0), mu),
        mu_law(ops.clip(y_pred, 0.0, 1.0), mu),
    )


def psnr_mu(y_true, y_pred, mu=MU):
    """mu-law PSNR (PSNR-mu): both linear images clipped to [0, 1], tonemapped with
    `mu_law(., mu)`, compared with peak 1. Per image, capped at PSNR_CAP_DB."""
    return psnr(*_mu_tonemap(y_true, y_pred, mu), max_val=1.0)


def ssim(a, b, max_val=1.0):
    """SSIM per image (tf.image.ssim, 11x11 Gaussian window sigma 1.5, k1 = 0.01,
    k2 = 0.03) of images [B, H, W, C] or [H, W, C], H and W >= 11, in a range whose
    peak is `max_val`. Returns [B] (a scalar for an unbatched image); 1 when a == b.
    """
    a, b = _pair(a, b)
    return tf.image.ssim(
        a,
        b,
        max_val=max_val,
        filter_size=SSIM_FILTER_SIZE,
        filter_sigma=SSIM_FILTER_SIGMA,
        k1=SSIM_K1,
        k2=SSIM_K2,
    )


def ssim_l(y_true, y_pred, max_val=1.0, clip=False):
    """Linear-domain SSIM (SSIM-L) of linear HDR normalised so that y_true is in
    [0, 1]; `max_val` is the dynamic range. Values are not clipped unless `clip`."""
    y_true, y_pred = _pair(y_true, y_pred)
    if clip:
        y_true = ops.clip(y_true, 0.0, max_val)
        y_pred = ops.clip(y_pred, 0.0, max_val)
    return ssim(y_true, y_pred, max_val)


def ssim_mu(y_true, y_pred, mu=MU):
    """mu-law SSIM (SSIM-mu): both linear images clipped to [0, 1], tonemapped with
    `mu_law(., mu)`, compared with SSIM at peak 1."""
    return ssim(*_mu_tonemap(y_true, y_pred, mu), max_val=1.0)


class _HDRMetric(keras.metrics.MeanMetricWrapper):
    """Mean over images of a per-image metric function; higher is better."""

    _fn_default = None
    _arg_name = None

    def __init__(self, value, name, dtype=None):
        super().__init__(
            fn=type(self)._fn_default,
            name=name,
            dtype=dtype,
            **{self._arg_name: value},
        )
        setattr(self, self._arg_name, value)
        self._direction = "up"

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            self._arg_name: getattr(self, self._arg_name),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="hdr_keras")
class PSNRMu(_HDRMetric):
    """Mean mu-law PSNR in dB (`psnr_mu`) of linear HDR normalised to [0, 1].

    Args:
        mu: mu-law compression parameter (default MU = 5000).
        name, dtype: as for any Keras metric.
    """

    _fn_default = staticmethod(psnr_mu)
    _arg_name = "mu"

    def __init__(self, mu=MU, name="psnr_mu", dtype=None):
        super().__init__(mu, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="hdr_keras")
class PSNRL(_HDRMetric):
    """Mean linear-domain PSNR in dB (`psnr_l`) of linear HDR normalised to [0, 1].

    Args:
        max_val: peak value of the linear range (default 1.0).
        name, dtype: as for any Keras metric.
    """

    _fn_default = staticmethod(psnr_l)
    _arg_name = "max_val"

    def __init__(self, max_val=1.0, name="psnr_l", dtype=None):
        super().__init__(max_val, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="hdr_keras")
class SSIMMu(_HDRMetric):
    """Mean mu-law SSIM (`ssim_mu`) of linear HDR normalised to [0, 1]; H, W >= 11.

    Args:
        mu: mu-law compression parameter (default MU = 5000).
        name, dtype: as for any Keras metric.
    """

    _fn_default = staticmethod(ssim_mu)
    _arg_name = "mu"

    def __init__(self, mu=MU, name="ssim_mu", dtype=None):
        super().__init__(mu, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="hdr_keras")
class SSIML(_HDRMetric):
    """Mean linear-domain SSIM (`ssim_l`, no clipping) of linear HDR normalised to
    [0, 1]; H, W >= 11.

    Args:
        max_val: dynamic range of the linear values (default 1.0).
        name, dtype: as for any Keras metric.
    """

    _fn_default = staticmethod(ssim_l)
    _arg_name = "max_val"

    def __init__(self, max_val=1.0, name="ssim_l", dtype=None):
        super().__init__(max_val, name=name, dtype=dtype)
