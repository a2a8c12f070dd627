"""HDR image-quality metrics: PSNR and SSIM in the linear (-L) and mu-law (-mu) domains.

Value-range assumption for every function and metric here: linear HDR normalised so
that the reference (`y_true`) lies in [0, 1] (the convention of Kalantari 2017 and its
successors); RGB channel order. The mu-law variants clip both images to [0, 1] before
tonemapping with `mu_law` (peak value 1). The linear variants do not clip unless asked.

Functions take batched images [B, H, W, C] and return one value per image [B]; an
unbatched image [H, W, C] gives a scalar. Identical images would give PSNR = +inf,
which breaks averaging: PSNR is capped at `PSNR_CAP_DB` (100 dB).

SSIM is Wang et al.'s with the standard Gaussian window (11x11, sigma 1.5),
k1 = 0.01, k2 = 0.03, 'valid' filtering (images must be at least 11x11): the values
of `tf.image.ssim`, computed faster. The 2-D window is the outer product of a 1-D
Gaussian with itself, so each window mean is a vertical then a horizontal 11-tap
filter (22 multiply-adds per pixel instead of 121), and the five window statistics
(means of x, y, x y and x^2 + y^2) go through one depthwise filter together.

The Keras metrics (`PSNRMu`, `PSNRL`, `SSIMMu`, `SSIML`) average the per-image values
over every image seen (each image weighs the same, whatever the batch sizes).

PU21 metrics (`pu21_psnr`, `pu21_ssim`, Keras `PU21PSNR`, `PU21SSIM`) take a different
range: ABSOLUTE linear RGB in cd/m^2 (see `hdr_keras.pu21.absolute_scale`), encoded
with PU21 (`hdr_keras.pu21`) and compared with peak PU21_PEAK_VALUE = 256, as the
authors' `pu21_metric`: PSNR on the three colour channels, SSIM on luminance.

`align_exposure` removes the scale ambiguity of single-image predictions before any
of these metrics (a per-image factor fitted on the well-exposed pixels).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from hdr_keras.constants import (
    EXPOSURE_ALIGN_EPS,
    EXPOSURE_ALIGN_SATURATION,
    MU,
    PSNR_CAP_DB,
    PU21_DEFAULT_VARIANT,
    PU21_PEAK_VALUE,
    SSIM_FILTER_SIGMA,
    SSIM_FILTER_SIZE,
    SSIM_K1,
    SSIM_K2,
)
from hdr_keras.ops.color import luminance
from hdr_keras.ops.tonemap import mu_law
from hdr_keras.pu21 import pu21_encode


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


def _gaussian_taps(size: int = SSIM_FILTER_SIZE, sigma: float = SSIM_FILTER_SIGMA):
    """1-D Gaussian weights [size] summing to 1; their outer product is exactly
    `tf.image.ssim`'s window softmax(-(i^2 + j^2) / (2 sigma^2)) (the softmax of a
    sum of two terms factorises into the product of their normalised exponentials).
    """
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    taps = np.exp(-0.5 * coords**2 / sigma**2)
    return (taps / taps.sum()).astype(np.float32)


def _window_means(images: tf.Tensor) -> tf.Tensor:
    """Gaussian-window means of [N, H, W, C] images, 'valid' positions only:
    [N, H - 10, W - 10, C], a vertical then a horizontal 11-tap depthwise filter."""
    taps = tf.constant(_gaussian_taps())
    channels = tf.shape(images)[-1]
    size = SSIM_FILTER_SIZE
    vertical = tf.tile(tf.reshape(taps, [size, 1, 1, 1]), [1, 1, channels, 1])
    horizontal = tf.tile(tf.reshape(taps, [1, size, 1, 1]), [1, 1, channels, 1])
    images = tf.nn.depthwise_conv2d(images, vertical, [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(images, horizontal, [1, 1, 1, 1], "VALID")


def _check_ssim_shapes(a: tf.Tensor, b: tf.Tensor) -> None:
    if a.shape.rank is not None and a.shape.rank < 3:
        raise ValueError(f"ssim: images must be [..., H, W, C], got shape {a.shape}")
    if a.shape.is_fully_defined() and b.shape.is_fully_defined():
        if a.shape != b.shape:
            raise ValueError(f"ssim: image shapes differ: {a.shape} vs {b.shape}")
        if min(a.shape[-3:-1]) < SSIM_FILTER_SIZE:
            raise ValueError(
                f"ssim: images must be at least {SSIM_FILTER_SIZE}x"
                f"{SSIM_FILTER_SIZE}, got shape {a.shape}"
            )


def ssim(a, b, max_val=1.0):
    """SSIM per image (as tf.image.ssim: 11x11 Gaussian window sigma 1.5, k1 = 0.01,
    k2 = 0.03, mean over the valid positions then over channels) of images
    [B, H, W, C] or [H, W, C], H and W >= 11, in a range whose peak is `max_val`.
    Returns [B] (a scalar for an unbatched image); 1 when a == b.
    """
    a, b = _pair(a, b)
    _check_ssim_shapes(a, b)
    tf.debugging.assert_equal(tf.shape(a), tf.shape(b), message="ssim: shapes differ")
    shape = tf.shape(a)
    tf.debugging.assert_greater_equal(
        tf.reduce_min(shape[-3:-1]),
        SSIM_FILTER_SIZE,
        message=f"ssim: images must be at least {SSIM_FILTER_SIZE}x{SSIM_FILTER_SIZE}",
    )
    flat = tf.concat([[-1], shape[-3:]], 0)
    a, b = tf.reshape(a, flat), tf.reshape(b, flat)
    max_val = tf.cast(max_val, tf.float32)
    c1 = tf.square(SSIM_K1 * max_val)
    c2 = tf.square(SSIM_K2 * max_val)
    channels = shape[-1]
    stats = _window_means(tf.concat([a, b, a * b, tf.square(a) + tf.square(b)], -1))
    mean_a, mean_b, mean_ab, mean_squares = tf.split(
        stats, tf.stack([channels] * 4), axis=-1
    )
    # The same expressions, in the same order, as tf.image.ssim's _ssim_helper.
    num0 = mean_a * mean_b * 2.0
    den0 = tf.square(mean_a) + tf.square(mean_b)
    luminance = (num0 + c1) / (den0 + c1)
    cs = (mean_ab * 2.0 - num0 + c2) / (mean_squares - den0 + c2)
    per_channel = tf.reduce_mean(luminance * cs, axis=[-3, -2])
    return tf.reshape(tf.reduce_mean(per_channel, axis=-1), shape[:-3])


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


def pu21_psnr(y_true, y_pred, variant: str = PU21_DEFAULT_VARIANT):
    """PU21-PSNR in dB of ABSOLUTE linear RGB (cd/m^2): both images PU21-encoded
    (`hdr_keras.pu21.pu21_encode`, clamped to 0.005..10000 cd/m^2), PSNR over the
    three channels with peak PU21_PEAK_VALUE = 256. Capped at PSNR_CAP_DB."""
    y_true, y_pred = _pair(y_true, y_pred)
    return psnr(
        pu21_encode(y_true, variant), pu21_encode(y_pred, variant), PU21_PEAK_VALUE
    )


def pu21_ssim(y_true, y_pred, variant: str = PU21_DEFAULT_VARIANT):
    """PU21-SSIM of ABSOLUTE linear RGB (cd/m^2): SSIM (as `ssim`, peak 256) of the
    PU21-encoded luminance (`hdr_keras.ops.color.luminance`), as the authors'
    `pu21_metric(..., 'SSIM')`. H, W >= 11."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ssim(
        pu21_encode(luminance(y_true), variant),
        pu21_encode(luminance(y_pred), variant),
        max_val=PU21_PEAK_VALUE,
    )


ALIGN_MODES = ("log", "linear", "none")


def align_exposure(
    reference,
    prediction,
    ldr=None,
    mode: str = "log",
    saturation: float = EXPOSURE_ALIGN_SATURATION,
):
    """Scales each prediction to the exposure of its reference (scale ambiguity).

    A single LDR image fixes the scene's radiance only up to a factor (the exposure),
    so single-image HDR predictions are calibrated to the reference before scoring
    with one factor s per image, fitted on the luminance Y (`ops.color.luminance`)
    of the pixels that are valid in both images (Y above EXPOSURE_ALIGN_EPS times
    the reference's peak) and, when `ldr` is given, well exposed in the input (its
    largest channel below `saturation`): where the input is clipped the prediction
    is a guess that should be scored, not fitted.

    Modes:
        "log" (default): least squares of log luminance, log s = mean(log Y_ref -
            log Y_pred) (the geometric means agree); insensitive to the few very
            bright pixels that dominate linear fits.
        "linear": least squares of linear luminance, s = <Y_ref, Y_pred> /
            <Y_pred, Y_pred>.
        "none": s = 1.
    With no well-exposed valid pixel the fit uses every valid pixel; with no valid
    pixel at all s = 1.

    Args:
        reference, prediction: linear HDR [B, H, W, 3] or [H, W, 3], same shape.
        ldr: the input image(s) [B, H, W, 3] / [H, W, 3] in [0, 1], or None.
        mode: one of ALIGN_MODES.
        saturation: LDR value from which a pixel counts as saturated.

    Returns:
        (aligned prediction, scale): scale is [B] (a scalar for one image).
    """
    if mode not in ALIGN_MODES:
        raise ValueError(
            f"exposure alignment mode must be one of {ALIGN_MODES}, got {mode!r}"
        )
    reference, prediction = _pair(reference, prediction)
    if tuple(reference.shape) != tuple(prediction.shape):
        raise ValueError(
            f"align_exposure: reference {tuple(reference.shape)} and prediction "
            f"{tuple(prediction.shape)} differ in shape"
        )
    axes = (-3, -2, -1)
    if mode == "none":
        scale = ops.ones_like(ops.sum(reference, axis=axes))
        return prediction, scale
    y_ref, y_pred = luminance(reference), luminance(prediction)
    floor = EXPOSURE_ALIGN_EPS * ops.max(y_ref, axis=axes, keepdims=True)
    valid = ops.cast(ops.logical_and(y_ref > floor, y_pred > floor), "float32")
    fit = valid
    if ldr is not None:
        ldr = ops.convert_to_tensor(ldr, dtype="float32")
        exposed = ops.cast(ops.max(ldr, axis=-1, keepdims=True) < saturation, "float32")
        fit = valid * exposed
        has_exposed = ops.sum(fit, axis=axes, keepdims=True) > 0
        fit = ops.where(has_exposed, fit, valid)
    count = ops.sum(fit, axis=axes)
    safe_ref, safe_pred = ops.maximum(y_ref, floor), ops.maximum(y_pred, floor)
    if mode == "log":
        log_ratio = ops.sum(fit * (ops.log(safe_ref) - ops.log(safe_pred)), axis=axes)
        scale = ops.exp(log_ratio / ops.maximum(count, 1.0))
    else:
        numerator = ops.sum(fit * y_ref * y_pred, axis=axes)
        denominator = ops.sum(fit * y_pred * y_pred, axis=axes)
        scale = numerator / ops.where(denominator > 0, denominator, 1.0)
    scale = ops.where(count > 0, scale, 1.0)
    broadcast = ops.reshape(scale, tuple(scale.shape) + (1, 1, 1))
    return prediction * broadcast, scale


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


@keras.saving.register_keras_serializable(package="hdr_keras")
class PU21PSNR(_HDRMetric):
    """Mean PU21-PSNR in dB (`pu21_psnr`) of ABSOLUTE linear RGB in cd/m^2.

    Args:
        variant: PU21 variant (default "banding_glare"; see `hdr_keras.pu21`).
        name, dtype: as for any Keras metric.
    """

    _fn_default = staticmethod(pu21_psnr)
    _arg_name = "variant"

    def __init__(self, variant=PU21_DEFAULT_VARIANT, name="pu21_psnr", dtype=None):
        super().__init__(variant, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="hdr_keras")
class PU21SSIM(_HDRMetric):
    """Mean PU21-SSIM (`pu21_ssim`, on luminance) of ABSOLUTE linear RGB in cd/m^2;
    H, W >= 11.

    Args:
        variant: PU21 variant (default "banding_glare"; see `hdr_keras.pu21`).
        name, dtype: as for any Keras metric.
    """

    _fn_default = staticmethod(pu21_ssim)
    _arg_name = "variant"

    def __init__(self, variant=PU21_DEFAULT_VARIANT, name="pu21_ssim", dtype=None):
        super().__init__(variant, name=name, dtype=dtype)
