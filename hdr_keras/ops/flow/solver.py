"""Liu's `SmoothFlowSOR`: the flow solver of one pyramid level, in TF ops.

`refine_level` refines the flow of one level: `outer_iterations + k` re-warpings
of the moving features, each followed by the flow increment of `sor.increment`
(`inner_iterations` IRLS re-weightings of the Charbonnier data and smoothness
terms, each system solved by red-black SOR) and, optionally, a median filter of
the flow. With `xla` the warp and the increment run as XLA programs
compiled per size bucket (`buckets.py`); without, op by op. Both give the same
numbers up to float32 rounding.
"""

from __future__ import annotations

import tensorflow as tf

from hdr_keras.ops.flow import buckets
from hdr_keras.ops.flow.median import median_filter
from hdr_keras.ops.flow.pyramid import _blur, _filter
from hdr_keras.ops.flow.sor import increment
from hdr_keras.ops.flow.warping import _interpolate, _sample_coordinates, outside_mask

_DERIVATIVE_TAPS = (1.0 / 12, -8.0 / 12, 0.0, 8.0 / 12, -1.0 / 12)
_DT_BLUR_TAPS = (0.02, 0.11, 0.74, 0.11, 0.02)  # Liu's getDxs pre-filter
_REFERENCE_WEIGHT = 0.4  # spatial derivatives of 0.4 * reference + 0.6 * warped


def _features(grey: tf.Tensor, gradient_constancy: bool) -> tf.Tensor:
    """Liu's im2feature: [grey, d/dx, d/dy] (or [grey]) of grey [B, H, W, 1]."""
    if not gradient_constancy:
        return grey
    dx = _filter(grey, _DERIVATIVE_TAPS, 2)
    dy = _filter(grey, _DERIVATIVE_TAPS, 1)
    return tf.concat([grey, dx, dy], axis=-1)


def _image_derivatives(warped, blurred_ref):
    """Liu's getDxs: (Ix, Iy, It) of the blurred reference and warped features."""
    blurred = _blur(warped, _DT_BLUR_TAPS)
    mixed = _REFERENCE_WEIGHT * blurred_ref + (1.0 - _REFERENCE_WEIGHT) * blurred
    ix = _filter(mixed, _DERIVATIVE_TAPS, 2)
    iy = _filter(mixed, _DERIVATIVE_TAPS, 1)
    it = blurred - blurred_ref
    return ix, iy, it


def _refine_padded(f_ref, f_mov, blurred_ref, flow, outer, sweeps, **options):
    """The outer iterations of `refine_level` through XLA (`buckets`): the level's
    arrays stay padded to their bucket, edge-replicated, for the whole level."""
    interpolation, median = options.pop("interpolation"), options.pop("median")
    size = tf.shape(flow)[1:3]
    f_ref, f_mov, blurred_ref, flow = (
        buckets.pad_to_bucket(t, edge=True) for t in (f_ref, f_mov, blurred_ref, flow)
    )
    sweeps = tf.convert_to_tensor(sweeps, tf.int32)

    def body(i, flow):
        warped = buckets.warp(f_mov, f_ref, flow, size, interpolation)
        blurred = _blur(warped, _DT_BLUR_TAPS)
        mixed = _REFERENCE_WEIGHT * blurred_ref + (1.0 - _REFERENCE_WEIGHT) * blurred
        mixed = buckets.replicate_border(mixed, size)
        ix = _filter(mixed, _DERIVATIVE_TAPS, 2)
        iy = _filter(mixed, _DERIVATIVE_TAPS, 1)
        flow = buckets.increment_flow(
            ix, iy, blurred - blurred_ref, flow, size, sweeps, **options
        )
        if median > 1:
            flow = buckets.median(flow, size, median)
        return i + 1, flow

    _, flow = tf.while_loop(
        lambda i, _: i < outer,
        body,
        [0, flow],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, None, None, 2])],
    )
    return flow[:, : size[0], : size[1]]


def refine_level(
    level,
    flow,
    outer,
    sweeps,
    *,
    alpha,
    inner,
    omega,
    gradient,
    xla,
    interpolation,
    median,
):
    """Liu's SmoothFlowSOR on one pyramid level (reference, moving grey stacked in
    the channels of `level` [B, h, w, 2]); returns the refined flow [B, h, w, 2]."""
    f_ref = _features(level[..., :1], gradient)
    f_mov = _features(level[..., 1:], gradient)
    blurred_ref = _blur(f_ref, _DT_BLUR_TAPS)
    options = dict(alpha=alpha, inner=inner, omega=omega)
    if xla:
        options.update(interpolation=interpolation, median=median)
        return _refine_padded(f_ref, f_mov, blurred_ref, flow, outer, sweeps, **options)

    def outer_body(i, flow):
        y, x = _sample_coordinates(flow)
        warped = _interpolate(f_mov, y, x, interpolation)
        warped = tf.where(outside_mask(flow) > 0.0, f_ref, warped)
        ix, iy, it = _image_derivatives(warped, blurred_ref)
        size = tf.shape(flow)[1:3]
        flow = increment(ix, iy, it, flow, size, sweeps, **options)
        if median > 1:
            flow = median_filter(flow, median)
        return i + 1, flow

    _, flow = tf.while_loop(lambda i, _: i < outer, outer_body, [0, flow])
    return flow
