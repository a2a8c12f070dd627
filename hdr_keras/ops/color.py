"""Colour helpers on linear RGB: luminance and a hue/saturation jitter for HDR data.

All functions take RGB in the last axis (channel order R, G, B) and work on linear
radiance of any scale: nothing is clipped to [0, 1], so they apply to HDR images as
well as to LDR ones. They are pure TF ops (through `keras.ops` on the TensorFlow
backend), usable eagerly, inside models and inside `tf.data` map functions.

The hue/saturation jitter follows HDRCNN's training-data augmentation (Eilertsen et
al. 2017: hue shift ~ N(0, 7 degrees), saturation ~ N(0, 0.1)). It works in a linear
luma/chroma space built from `LUMINANCE_WEIGHTS` (Y, Cb, Cr with Rec. 709-style
normalisation), rotates the (Cb, Cr) plane by the hue angle and scales it by
(1 + saturation_shift). Y is untouched, so luminance is preserved exactly for colours
that stay inside the RGB gamut; negative channel values (out-of-gamut results) are
clamped to 0, which only raises luminance slightly for very saturated colours.
"""

from __future__ import annotations

import math

from keras import ops

from hdr_keras.constants import LUMINANCE_WEIGHTS

_WR, _WG, _WB = LUMINANCE_WEIGHTS
# Cb = (B - Y) * _KB and Cr = (R - Y) * _KR lie in [-0.5, 0.5] for RGB in [0, 1].
_KB = 1.0 / (2.0 * (1.0 - _WB))
_KR = 1.0 / (2.0 * (1.0 - _WR))


def luminance(rgb, keepdims: bool = True):
    """Linear luminance Y = LUMINANCE_WEIGHTS . (R, G, B) of linear RGB `rgb` [..., 3].

    Returns [..., 1] when `keepdims` (default, keeps the image channel axis), else
    [...]. Any value range; RGB channel order.
    """
    rgb = ops.convert_to_tensor(rgb)
    weights = ops.convert_to_tensor(LUMINANCE_WEIGHTS, dtype=rgb.dtype)
    return ops.sum(rgb * weights, axis=-1, keepdims=keepdims)


def _per_image(value, rgb):
    """Casts a scalar or per-image [B] parameter and appends axes to broadcast over
    the spatial axes of `rgb` ([H, W, 3] -> scalar, [B, H, W, 3] -> [B, 1, 1])."""
    value = ops.cast(ops.convert_to_tensor(value), rgb.dtype)
    for _ in range(len(rgb.shape) - 1 - len(value.shape)):
        value = ops.expand_dims(value, -1)
    return value


def adjust_hue_saturation(rgb_linear, hue_shift_degrees=0.0, saturation_shift=0.0):
    """Rotates the hue and scales the chroma of linear RGB, without clipping to [0, 1].

    Args:
        rgb_linear: linear RGB [..., H, W, 3] of any non-negative scale (HDR radiance
            or linearised LDR); RGB channel order.
        hue_shift_degrees: rotation of the chroma plane in degrees; a scalar, or one
            value per image ([B] for a [B, H, W, 3] batch). 0 is the identity.
        saturation_shift: the chroma is scaled by max(1 + saturation_shift, 0); scalar
            or [B]. 0 is the identity, -1 gives grey (R = G = B = Y).

    Returns:
        Linear RGB of the same shape, values >= 0. The luminance `luminance(rgb)` is
        unchanged except where out-of-gamut (negative) results are clamped to 0.
    """
    rgb = ops.convert_to_tensor(rgb_linear)
    theta = _per_image(hue_shift_degrees, rgb) * (math.pi / 180.0)
    gain = ops.maximum(1.0 + _per_image(saturation_shift, rgb), 0.0)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = _WR * red + _WG * green + _WB * blue
    cb = (blue - y) * _KB
    cr = (red - y) * _KR
    cos, sin = ops.cos(theta) * gain, ops.sin(theta) * gain
    cb_new = cos * cb - sin * cr
    cr_new = sin * cb + cos * cr
    # Add the change rather than rebuilding RGB from (Y, Cb, Cr): exact identity for
    # zero shifts, and no cancellation error on the small channels of bright HDR
    # pixels beyond one proportional to the shift.
    d_red = (cr_new - cr) / _KR
    d_blue = (cb_new - cb) / _KB
    d_green = -(_WR * d_red + _WB * d_blue) / _WG
    out = ops.stack([red + d_red, green + d_green, blue + d_blue], axis=-1)
    return ops.maximum(out, 0.0)
