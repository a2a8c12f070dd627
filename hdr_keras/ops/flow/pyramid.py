"""Separable filters with replicated borders, the flow's median filter, and Liu's
Gaussian pyramid (TF ops, dynamic sizes) for `hdr_keras.ops.flow.estimate_flow`.

Gaussian pyramid: level i is level max(0, i - n) (n = floor(log 0.25 / log ratio))
blurred with sigma = (1/ratio - 1) * (i - that level), resized to ratio**i of the
original size (bilinear); floor(log(min_width / W) / log(ratio)) levels (at least 1).
Deviations from Liu's code: resizing uses TF's half-pixel-centre convention; the
Gaussian cut-off floor(3 sigma) is computed with a small tolerance (Liu's double
arithmetic truncates 3 * (1/0.75 - 1) to 0, leaving level 1 unblurred).
"""

from __future__ import annotations

import math

import tensorflow as tf

# ----------------------------------------------------------------------------- filters


def _take(x: tf.Tensor, start, stop, axis: int) -> tf.Tensor:
    """x[start:stop] along axis 1 or 2 (bounds may be tensors)."""
    return x[:, start:stop] if axis == 1 else x[:, :, start:stop]


def _pad_edge(x: tf.Tensor, before: int, after: int, axis: int) -> tf.Tensor:
    """Replicates the border pixels of `x` along axis 1 or 2 (any size, even 1)."""
    first, last = _take(x, 0, 1, axis), _take(x, -1, None, axis)
    return tf.concat([first] * before + [x] + [last] * after, axis=axis)


def _filter(x: tf.Tensor, taps, axis: int) -> tf.Tensor:
    """Correlates x [B, H, W, C] with odd-length `taps` (a sequence of floats or a
    1-D tensor of static length) along axis 1 (rows) or 2 (columns), the border
    replicated (Liu's imfilter). Shifted slices, not a convolution: XLA fuses them
    (its CPU depthwise convolution is several times slower)."""
    length = len(taps) if isinstance(taps, (tuple, list)) else int(taps.shape[0])
    radius = (length - 1) // 2
    padded = _pad_edge(x, radius, radius, axis)
    size = tf.shape(x)[axis]
    result = None
    for i in range(length):
        if isinstance(taps, (tuple, list)) and taps[i] == 0.0:
            continue
        term = _take(padded, i, i + size, axis) * taps[i]
        result = term if result is None else result + term
    return result


def _blur(x: tf.Tensor, taps) -> tf.Tensor:
    return _filter(_filter(x, taps, 1), taps, 2)


def _gaussian_taps(sigma: tf.Tensor, radius: int) -> tf.Tensor:
    """Normalised Gaussian taps of length 2 * radius + 1, cut at |x| <= 3 sigma."""
    x = tf.range(-radius, radius + 1, dtype=tf.float32)
    reach = tf.floor(3.0 * sigma + 1e-4)
    weights = tf.exp(-(x * x) / (2.0 * sigma * sigma))
    weights *= tf.cast(tf.abs(x) <= tf.maximum(reach, 0.0), tf.float32)
    return weights / tf.reduce_sum(weights)


def _forward_difference(x: tf.Tensor, axis: int) -> tf.Tensor:
    """x[i+1] - x[i] along axis 1 or 2, 0 on the last row/column (Liu's dx, dy)."""
    if axis == 1:
        return tf.pad(x[:, 1:] - x[:, :-1], [[0, 0], [0, 1], [0, 0], [0, 0]])
    return tf.pad(x[:, :, 1:] - x[:, :, :-1], [[0, 0], [0, 0], [0, 1], [0, 0]])


def _shift_forward(x: tf.Tensor, axis: int) -> tf.Tensor:
    """y[i] = x[i-1] along axis 1 or 2, 0 at i = 0."""
    if axis == 1:
        return tf.pad(x[:, :-1], [[0, 0], [1, 0], [0, 0], [0, 0]])
    return tf.pad(x[:, :, :-1], [[0, 0], [0, 0], [1, 0], [0, 0]])


def _shift_backward(x: tf.Tensor, axis: int) -> tf.Tensor:
    """y[i] = x[i+1] along axis 1 or 2, 0 at the last row/column."""
    if axis == 1:
        return tf.pad(x[:, 1:], [[0, 0], [0, 1], [0, 0], [0, 0]])
    return tf.pad(x[:, :, 1:], [[0, 0], [0, 0], [0, 1], [0, 0]])


# ----------------------------------------------------------------------------- pyramid


def _num_levels(width: tf.Tensor, ratio: float, min_width: float) -> tf.Tensor:
    """Liu's nLevels = floor(log(min_width / W) / log(ratio)), at least 1."""
    levels = tf.math.log(min_width / tf.cast(width, tf.float64)) / math.log(ratio)
    return tf.maximum(tf.cast(tf.floor(levels + 1e-9), tf.int32), 1)


def _level_size(height, width, ratio: float, level) -> tf.Tensor:
    """[h, w] of pyramid level `level`: floor(size * ratio ** level), at least 1."""
    scale = tf.pow(tf.constant(ratio, tf.float64), tf.cast(level, tf.float64))
    size = tf.cast(tf.stack([height, width]), tf.float64) * scale
    return tf.maximum(tf.cast(tf.floor(size + 1e-9), tf.int32), 1)


def _build_pyramid(images: tf.Tensor, levels: tf.Tensor, ratio: float):
    """TensorArray of Liu's Gaussian pyramid of images [B, H, W, C], level 0 = input."""
    cascade = max(1, int(math.floor(math.log(0.25) / math.log(ratio))))
    base_sigma = 1.0 / ratio - 1.0
    radius = max(1, int(math.ceil(3.0 * base_sigma * cascade)))
    shape = tf.shape(images)
    pyramid = tf.TensorArray(
        tf.float32,
        size=levels,
        clear_after_read=False,
        infer_shape=False,
        element_shape=tf.TensorShape([None, None, None, images.shape[-1]]),
    )
    pyramid = pyramid.write(0, images)

    def body(i, pyramid):
        source = tf.maximum(i - cascade, 0)
        sigma = base_sigma * tf.cast(i - source, tf.float32)
        smoothed = _blur(pyramid.read(source), _gaussian_taps(sigma, radius))
        size = _level_size(shape[1], shape[2], ratio, i)
        return i + 1, pyramid.write(i, tf.image.resize(smoothed, size, "bilinear"))

    _, pyramid = tf.while_loop(lambda i, _: i < levels, body, [1, pyramid])
    return pyramid
