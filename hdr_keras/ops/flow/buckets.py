"""The flow solver's heavy steps compiled by XLA, on sizes rounded up to buckets.

TF runs the solver op by op: on the small pyramid levels the per-op overhead
dominates, on the large ones the memory traffic of one pass per op. XLA fuses a
whole SOR sweep (and the bicubic warp's 16 gathers) into a few loops, 3 to 7
times faster per pixel here; but it compiles a program per input shape, and
a pyramid has a new shape at every level of every image size. So each array is
padded at the bottom and right to a bucket (`bucket`: 32, 64, 128, then 4 sizes
per octave, at most 25 % more per side), and one compiled program serves every
level and every image that falls in the bucket (compiled programs are cached per
process; each costs about a second to compile on a 2-core CPU).

The padding does not change the result on the real pixels:
- `increment` (IRLS systems + SOR) gets zero padding and the real size: padded
  pixels have no data term and no edges, so their solution is 0 and they are
  decoupled from the frame;
- the warp gets the image edge-replicated: a tap beyond the border reads the
  border pixel, exactly as the unpadded warp clamps it;
- the median filter replicates the frame's border into the padding first, as
  the unpadded filter pads.
(The derivative filters between them stay op by op: XLA's loops for those
shifted slices were slower than TF's ops, 2026-12-02.)
"""

from __future__ import annotations

import math

import tensorflow as tf

from hdr_keras.ops.flow.median import median_filter
from hdr_keras.ops.flow.sor import increment
from hdr_keras.ops.flow.warping import _interpolate, _sample_coordinates


def bucket(n) -> tf.Tensor:
    """n rounded up to its bucket: 32, 64 or 128 up to 128, then a multiple of
    2 ** (floor(log2 n) - 2) (4 buckets per octave)."""
    n = tf.cast(n, tf.int32)
    small = tf.where(n <= 32, 32, tf.where(n <= 64, 64, 128))
    octave = tf.math.log(tf.cast(n, tf.float32)) / math.log(2.0)
    step = tf.bitwise.left_shift(1, tf.maximum(tf.cast(octave, tf.int32) - 2, 0))
    large = (n + step - 1) // step * step
    return tf.where(n <= 128, small, large)


def pad_to_bucket(x: tf.Tensor, edge: bool = False) -> tf.Tensor:
    """x [B, h, w, C] padded at the bottom and right to (bucket(h), bucket(w)):
    with zeros, or (`edge`) with copies of the last row and column."""
    shape = tf.shape(x)
    height, width = bucket(shape[1]), bucket(shape[2])
    padded = tf.pad(x, [[0, 0], [0, height - shape[1]], [0, width - shape[2]], [0, 0]])
    return replicate_border(padded, shape[1:3]) if edge else padded


def replicate_border(x: tf.Tensor, size) -> tf.Tensor:
    """x [B, H, W, C] with the rows and columns beyond `size` = (h, w) replaced by
    copies of row h - 1 and column w - 1."""
    shape = tf.shape(x)
    rows = tf.minimum(tf.range(shape[1]), size[0] - 1)
    cols = tf.minimum(tf.range(shape[2]), size[1] - 1)
    return tf.gather(tf.gather(x, rows, axis=1), cols, axis=2)


def _inside(x: tf.Tensor, size) -> tf.Tensor:
    """1.0 on the real frame [0, h) x [0, w) of an array padded beyond it."""
    shape = tf.shape(x)
    rows = tf.range(shape[1])[:, None] < size[0]
    cols = tf.range(shape[2])[None, :] < size[1]
    return tf.cast(rows & cols, x.dtype)[None, :, :, None]


def _warp(image, reference, flow, size, interpolation):
    """Warped `image`, `reference` where the flow leaves the real frame, border
    replicated beyond it."""
    y, x = _sample_coordinates(flow)
    height = tf.cast(size[0] - 1, tf.float32)
    width = tf.cast(size[1] - 1, tf.float32)
    outside = (y < 0.0) | (y > height) | (x < 0.0) | (x > width)
    warped = tf.where(outside[..., None], reference, _interpolate(image, y, x, interpolation))
    return replicate_border(warped, size)


def _median(flow, size, window):
    return median_filter(replicate_border(flow, size), window)


def _increment(ix, iy, it, flow, size, sweeps, alpha, inner, omega):
    inside = _inside(flow, size)
    return increment(
        ix * inside,
        iy * inside,
        it * inside,
        flow,
        size,
        sweeps,
        alpha=alpha,
        inner=inner,
        omega=omega,
    )


def _compiled(function):
    return tf.function(
        function, jit_compile=True, reduce_retracing=True, autograph=False
    )


warp = _compiled(_warp)
warp.__doc__ = """XLA: `image` [B, H, W, C] (edge-padded to its bucket) warped by `flow`
[B, H, W, 2], `reference` where p + flow(p) leaves the real frame `size` (h, w),
and the border replicated beyond it (ready for the replicating filters)."""
increment_flow = _compiled(_increment)
increment_flow.__doc__ = """XLA: `sor.increment` on arrays padded beyond the real
frame `size` (h, w); the derivatives there are ignored."""
median = _compiled(_median)
median.__doc__ = """XLA: the `window` x `window` median filter (a Python int) of
`flow` [B, H, W, 2] padded beyond the real frame `size` (h, w), the frame's border
replicated (2.2 to 2.4 times faster than op by op at 256x320 and 768x1280 on a
2-core AVX2 CPU, 2026-12-02)."""
