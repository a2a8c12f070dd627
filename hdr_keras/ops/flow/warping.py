"""Backward warping in TF ops: `warp` (bilinear or bicubic) and `outside_mask`.

TensorFlow has no image warp and tensorflow-addons (`dense_image_warp`) is dead, so
this is written in TF ops (dynamic H and W, usable inside `tf.function` and
SavedModels). Flow convention (the whole `hdr_keras.ops.flow` package): [B, H, W, 2]
in pixels, channel 0 = dy (rows), channel 1 = dx (columns). Pixel p = (y, x) of the
output samples the input at (y + dy, x + dx); coordinates are pixel centres,
0 .. H-1 and 0 .. W-1. Also the argument checks shared by the package.
"""

from __future__ import annotations

import tensorflow as tf

INTERPOLATIONS = ("bilinear", "bicubic")
KEYS_A = -0.5  # Keys' cubic convolution parameter (MATLAB interp2 'cubic')


# ----------------------------------------------------------------------------- checks


def _as_image(x, name: str, channels: int | None = None) -> tf.Tensor:
    """float32 tensor of rank 4 [B, H, W, C]; ValueError naming `name` otherwise."""
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise ValueError(f"{name} must be a float tensor, got dtype {x.dtype.name}")
    x = tf.cast(x, tf.float32)
    if x.shape.rank is not None and x.shape.rank != 4:
        raise ValueError(
            f"{name} must be rank 4 [batch, height, width, channels], got shape "
            f"{x.shape}"
        )
    if channels is not None and x.shape[-1] is not None and x.shape[-1] != channels:
        raise ValueError(f"{name} must have {channels} channels, got shape {x.shape}")
    return tf.ensure_shape(x, [None, None, None, channels])


def _check_same_grid(a: tf.Tensor, b: tf.Tensor, a_name: str, b_name: str):
    """Static check (when known) and run-time assertion that a, b share B, H, W."""
    if not a.shape[:3].is_compatible_with(b.shape[:3]):
        raise ValueError(
            f"{a_name} {a.shape} and {b_name} {b.shape} must have the same batch, "
            "height and width"
        )
    tf.debugging.assert_equal(
        tf.shape(a)[:3],
        tf.shape(b)[:3],
        message=f"{a_name} and {b_name} must have the same batch, height and width",
    )


def _check_interpolation(interpolation: str) -> None:
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}"
        )


# ----------------------------------------------------------------------------- warping


def _sample_coordinates(flow: tf.Tensor):
    """Absolute sampling coordinates (y, x) [B, H, W] = pixel grid + flow."""
    shape = tf.shape(flow)
    rows = tf.cast(tf.range(shape[1]), flow.dtype)[None, :, None]
    cols = tf.cast(tf.range(shape[2]), flow.dtype)[None, None, :]
    return rows + flow[..., 0], cols + flow[..., 1]


def _tap_weights(t: tf.Tensor, interpolation: str):
    """(offsets, weights) of the 1-D interpolation taps at fractional position t."""
    if interpolation == "bilinear":
        return (0, 1), (1.0 - t, t)
    a = KEYS_A
    t2, t3 = t * t, t * t * t
    weights = (
        a * (t3 - 2.0 * t2 + t),
        (a + 2.0) * t3 - (a + 3.0) * t2 + 1.0,
        -(a + 2.0) * t3 + (2.0 * a + 3.0) * t2 - a * t,
        a * (t2 - t3),
    )
    return (-1, 0, 1, 2), weights


def _interpolate(image: tf.Tensor, y: tf.Tensor, x: tf.Tensor, interpolation: str):
    """image [B, H, W, C] sampled at (y, x) [B, H', W'], tap indices clamped."""
    shape = tf.shape(image)
    height, width, channels = shape[1], shape[2], shape[3]
    flat = tf.reshape(image, [-1, channels])
    y0, x0 = tf.floor(y), tf.floor(x)
    offsets, y_weights = _tap_weights(y - y0, interpolation)
    _, x_weights = _tap_weights(x - x0, interpolation)
    y0, x0 = tf.cast(y0, tf.int32), tf.cast(x0, tf.int32)
    batch_base = (tf.range(shape[0]) * height * width)[:, None, None]
    result = None
    for dy, wy in zip(offsets, y_weights):
        row = batch_base + tf.clip_by_value(y0 + dy, 0, height - 1) * width
        row_sum = None
        for dx, wx in zip(offsets, x_weights):
            index = row + tf.clip_by_value(x0 + dx, 0, width - 1)
            term = tf.gather(flat, index) * wx[..., None]
            row_sum = term if row_sum is None else row_sum + term
        term = row_sum * wy[..., None]
        result = term if result is None else result + term
    return result


def warp(image, flow, interpolation: str = "bilinear") -> tf.Tensor:
    """Backward warp: output(p) = image(p + flow(p)).

    Args:
        image: float [B, H, W, C].
        flow: float [B, H, W, 2] in pixels, channels (dy, dx).
        interpolation: "bilinear" or "bicubic" (Keys a = -0.5, MATLAB interp2
            'cubic'). Taps outside the frame clamp to the border pixels, so a
            sample outside the frame takes the nearest border value (see
            `outside_mask` for where that happens). Bicubic may overshoot the
            input's range near edges, as MATLAB's does.
    Returns:
        float32 [B, H, W, C], differentiable w.r.t. `image` and `flow`.
    """
    _check_interpolation(interpolation)
    image = _as_image(image, "image")
    flow = _as_image(flow, "flow", channels=2)
    _check_same_grid(image, flow, "image", "flow")
    y, x = _sample_coordinates(flow)
    return _interpolate(image, y, x, interpolation)


def outside_mask(flow) -> tf.Tensor:
    """1.0 where p + flow(p) falls outside the frame [0, H-1] x [0, W-1], else 0.0.

    Args:
        flow: float [B, H, W, 2], channels (dy, dx) in pixels.
    Returns:
        float32 [B, H, W, 1].
    """
    flow = _as_image(flow, "flow", channels=2)
    y, x = _sample_coordinates(flow)
    shape = tf.shape(flow)
    last_row = tf.cast(shape[1] - 1, tf.float32)
    last_col = tf.cast(shape[2] - 1, tf.float32)
    outside = (y < 0.0) | (y > last_row) | (x < 0.0) | (x > last_col)
    return tf.cast(outside, tf.float32)[..., None]
