"""Liu's `SmoothFlowSOR`: the flow solver of one pyramid level, in TF ops.

`_refine_level` refines the flow of one level: `outer_iterations + k` re-warpings
of the moving features, each with `inner_iterations` IRLS re-weightings of the
Charbonnier data (psi) and smoothness (phi) terms; each re-weighting solves a linear
system in (du, dv) with successive over-relaxation (SOR). Liu sweeps it in raster
order; here it is vectorised as red-black Gauss-Seidel: `_sor` on masked full-size
arrays (the form XLA fuses best, used with `jit_compile`) and `_sor_packed` on
checkerboard-packed arrays (half the memory traffic; the faster one without XLA).
Both give the same numbers up to float32 rounding.
"""

from __future__ import annotations

import tensorflow as tf

from hdr_keras.ops.flow.pyramid import (
    _blur,
    _filter,
    _forward_difference,
    _median_filter,
    _shift_forward,
)
from hdr_keras.ops.flow.warping import _interpolate, _sample_coordinates, outside_mask

_EXTRA_DIAGONAL = 0.05  # Liu's SOR adds alpha * 0.05 to the diagonal
_EPSILON = 1e-3**2  # Liu's varepsilon_phi = varepsilon_psi = 0.001 ** 2
_DERIVATIVE_TAPS = (1.0 / 12, -8.0 / 12, 0.0, 8.0 / 12, -1.0 / 12)
_DT_BLUR_TAPS = (0.02, 0.11, 0.74, 0.11, 0.02)  # Liu's getDxs pre-filter
_REFERENCE_WEIGHT = 0.4  # spatial derivatives of 0.4 * reference + 0.6 * warped


def _neighbour_sum(x: tf.Tensor, weights) -> tf.Tensor:
    """sum over the 4 neighbours n of p of weights_n[p] * x[n] (0 off the frame)."""
    w_left, w_right, w_up, w_down = weights
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    return (
        w_left * padded[:, 1:-1, :-2]
        + w_right * padded[:, 1:-1, 2:]
        + w_up * padded[:, :-2, 1:-1]
        + w_down * padded[:, 2:, 1:-1]
    )


def _sor_terms(system, alpha: float, omega: float):
    """(neighbour weights left/right/up/down, omega / diagonal for du and dv)."""
    a11, _, a22, _, _, edge_x, edge_y = system
    w_right, w_down = alpha * edge_x, alpha * edge_y
    weights = (_shift_forward(w_right, 2), w_right, _shift_forward(w_down, 1), w_down)
    diagonal = alpha * _EXTRA_DIAGONAL + tf.add_n(list(weights))
    return weights, omega / (a11 + diagonal), omega / (a22 + diagonal)


def _sor(system, sweeps, alpha: float, omega: float):
    """Red-black SOR for Liu's per-level linear system; returns (du, dv).

    `system` = (a11, a12, a22, r1, r2, edge_x, edge_y), each [B, h, w, 1]: per pixel
    (a11 + D) du + a12 dv - alpha * sum_n w_n du_n = r1 (and symmetrically for dv)
    with D = alpha * (0.05 + sum_n w_n); edge_x[p] is the weight of the edge
    p -- p + (0, 1) (0 on the last column), edge_y of p -- p + (1, 0). Liu sweeps
    the pixels in raster order updating du then dv; here all red pixels
    ((row + col) even) are updated at once, then all black ones (the same
    Gauss-Seidel dependencies, in another order). Full-size arrays with masks:
    the form XLA fuses best (`_sor_packed` is the faster one without XLA).
    """
    _, a12, _, r1, r2, _, _ = system
    weights, inv1, inv2 = _sor_terms(system, alpha, omega)
    shape = tf.shape(r1)
    parity = tf.range(shape[1])[:, None] + tf.range(shape[2])[None, :]
    red = tf.cast(parity % 2 == 0, tf.float32)[None, :, :, None]
    colours = []
    for mask in (red, 1.0 - red):  # pixels updated in this half-sweep
        colours.append((1.0 - omega * mask, mask * inv1, mask * inv2))

    def body(i, du, dv):
        for keep, gain1, gain2 in colours:
            du_sum = _neighbour_sum(du, weights)
            dv_sum = _neighbour_sum(dv, weights)
            du = keep * du + gain1 * (r1 + du_sum - a12 * dv)
            dv = keep * dv + gain2 * (r2 + dv_sum - a12 * du)
        return i + 1, du, dv

    zeros = tf.zeros_like(r1)
    _, du, dv = tf.while_loop(lambda i, *_: i < sweeps, body, [0, zeros, zeros])
    return du, dv


def _pack(x: tf.Tensor, row_even: tf.Tensor):
    """[B, h, w, 1] -> (red, black) [B, h, ceil(w/2), 1]: row i of `red` holds the
    pixels of columns 2k + (i % 2), `black` those of 2k + 1 - (i % 2); an odd
    width is padded with a zero column."""
    shape = tf.shape(x)
    x = tf.pad(x, [[0, 0], [0, 0], [0, shape[2] % 2], [0, 0]])
    pairs = tf.reshape(x, [shape[0], shape[1], (shape[2] + 1) // 2, 2])
    even, odd = pairs[..., :1], pairs[..., 1:]
    return tf.where(row_even, even, odd), tf.where(row_even, odd, even)


def _unpack(red: tf.Tensor, black: tf.Tensor, row_even: tf.Tensor, width):
    """Inverse of `_pack`: [B, h, width, 1]."""
    even = tf.where(row_even, red, black)
    odd = tf.where(row_even, black, red)
    shape = tf.shape(red)
    both = tf.reshape(tf.concat([even, odd], -1), [shape[0], shape[1], -1, 1])
    return both[:, :, :width]


def _sor_packed(system, sweeps, alpha: float, omega: float):
    """`_sor` on checkerboard-packed arrays: each half-sweep touches only the pixels
    it updates (half the memory traffic of `_sor`, the same arithmetic). Neighbours
    come from tf.roll; the values wrapped around meet zero weights on the border."""
    _, a12, _, r1, r2, _, _ = system
    weights, inv1, inv2 = _sor_terms(system, alpha, omega)
    shape = tf.shape(r1)
    row_even = (tf.range(shape[1]) % 2 == 0)[None, :, None, None]
    even = tf.cast(row_even, tf.float32)
    odd = 1.0 - even
    packed = [_pack(t, row_even) for t in (*weights, inv1, inv2, a12, r1, r2)]
    colours = []
    for c in (0, 1):  # red, then black
        w_left, w_right, w_up, w_down, g1, g2, b12, s1, s2 = (t[c] for t in packed)
        # left/right neighbours sit at packed column k-1, k or k+1 depending on
        # the row parity: one coefficient per shift
        first, second = (even, odd) if c == 0 else (odd, even)
        coefficients = (
            w_left * first,  # x[k - 1]
            w_left * second + w_right * first,  # x[k]
            w_right * second,  # x[k + 1]
            w_up,
            w_down,
        )
        colours.append((coefficients, g1, g2, b12, s1, s2))

    def neighbours(y, coefficients):
        previous, same, following, up, down = coefficients
        return (
            previous * tf.roll(y, 1, 2)
            + same * y
            + following * tf.roll(y, -1, 2)
            + up * tf.roll(y, 1, 1)
            + down * tf.roll(y, -1, 1)
        )

    def body(i, u_red, v_red, u_black, v_black):
        u, v = [u_red, u_black], [v_red, v_black]
        for c, (coefficients, g1, g2, b12, s1, s2) in enumerate(colours):
            other = 1 - c
            u_sum = neighbours(u[other], coefficients)
            v_sum = neighbours(v[other], coefficients)
            u[c] = (1.0 - omega) * u[c] + g1 * (s1 + u_sum - b12 * v[c])
            v[c] = (1.0 - omega) * v[c] + g2 * (s2 + v_sum - b12 * u[c])
        return i + 1, u[0], v[0], u[1], v[1]

    zeros = tf.zeros_like(packed[-1][0])
    _, u_red, v_red, u_black, v_black = tf.while_loop(
        lambda i, *_: i < sweeps, body, [0, zeros, zeros, zeros, zeros]
    )
    du = _unpack(u_red, u_black, row_even, shape[2])
    dv = _unpack(v_red, v_black, row_even, shape[2])
    return du, dv


def _features(grey: tf.Tensor, gradient_constancy: bool) -> tf.Tensor:
    """Liu's im2feature: [grey, d/dx, d/dy] (or [grey]) of grey [B, H, W, 1]."""
    if not gradient_constancy:
        return grey
    dx = _filter(grey, _DERIVATIVE_TAPS, 2)
    dy = _filter(grey, _DERIVATIVE_TAPS, 1)
    return tf.concat([grey, dx, dy], axis=-1)


def _weighted_laplacian(u, edge_x, edge_y):
    """Liu's Laplacian(u, phi): sum over neighbours of w * (u_p - u_n)."""
    flux_x = edge_x * _forward_difference(u, 2)
    flux_y = edge_y * _forward_difference(u, 1)
    return _shift_forward(flux_x, 2) - flux_x + _shift_forward(flux_y, 1) - flux_y


def _image_derivatives(warped, blurred_ref):
    """Liu's getDxs: (Ix, Iy, It) of the blurred reference and warped features."""
    blurred = _blur(warped, _DT_BLUR_TAPS)
    mixed = _REFERENCE_WEIGHT * blurred_ref + (1.0 - _REFERENCE_WEIGHT) * blurred
    ix = _filter(mixed, _DERIVATIVE_TAPS, 2)
    iy = _filter(mixed, _DERIVATIVE_TAPS, 1)
    it = blurred - blurred_ref
    return ix, iy, it


def _refine_level(
    level,
    flow,
    outer,
    sweeps,
    *,
    alpha,
    inner,
    omega,
    gradient,
    packed,
    interpolation,
    median,
):
    """Liu's SmoothFlowSOR on one pyramid level (reference, moving grey stacked in
    the channels of `level` [B, h, w, 2]); returns the refined flow [B, h, w, 2]."""
    f_ref = _features(level[..., :1], gradient)
    f_mov = _features(level[..., 1:], gradient)
    blurred_ref = _blur(f_ref, _DT_BLUR_TAPS)
    shape = tf.shape(level)
    rows = tf.range(shape[1])[:, None]
    cols = tf.range(shape[2])[None, :]
    not_last_col = tf.cast(cols < shape[2] - 1, tf.float32)[None, :, :, None]
    not_last_row = tf.cast(rows < shape[1] - 1, tf.float32)[None, :, :, None]

    solve = _sor_packed if packed else _sor

    def outer_body(i, flow):
        y, x = _sample_coordinates(flow)
        warped = _interpolate(f_mov, y, x, interpolation)
        warped = tf.where(outside_mask(flow) > 0.0, f_ref, warped)
        ix, iy, it = _image_derivatives(warped, blurred_ref)
        v, u = flow[..., :1], flow[..., 1:]
        du = dv = tf.zeros_like(u)
        for _ in range(inner):
            uu, vv = u + du, v + dv
            smooth = (
                tf.square(_forward_difference(uu, 2))
                + tf.square(_forward_difference(uu, 1))
                + tf.square(_forward_difference(vv, 2))
                + tf.square(_forward_difference(vv, 1))
            )
            phi = 0.5 * tf.math.rsqrt(smooth + _EPSILON)
            psi = 0.5 * tf.math.rsqrt(tf.square(it + ix * du + iy * dv) + _EPSILON)
            edge_x, edge_y = phi * not_last_col, phi * not_last_row
            system = (
                tf.reduce_sum(psi * ix * ix, -1, keepdims=True),
                tf.reduce_sum(psi * ix * iy, -1, keepdims=True),
                tf.reduce_sum(psi * iy * iy, -1, keepdims=True),
                -tf.reduce_sum(psi * ix * it, -1, keepdims=True)
                - alpha * _weighted_laplacian(u, edge_x, edge_y),
                -tf.reduce_sum(psi * iy * it, -1, keepdims=True)
                - alpha * _weighted_laplacian(v, edge_x, edge_y),
                edge_x,
                edge_y,
            )
            du, dv = solve(system, sweeps, alpha, omega)
        flow = flow + tf.concat([dv, du], axis=-1)
        if median > 1:
            flow = _median_filter(flow, median)
        return i + 1, flow

    _, flow = tf.while_loop(lambda i, _: i < outer, outer_body, [0, flow])
    return flow


_refine_level_xla = tf.function(
    _refine_level, jit_compile=True, reduce_retracing=True, autograph=False
)
