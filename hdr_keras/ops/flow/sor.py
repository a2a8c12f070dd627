"""The flow increment of one warping step of Liu's `SmoothFlowSOR`: IRLS systems
solved by red-black SOR.

`increment` builds, `inner_iterations` times, the linear system in (du, dv) of the
Charbonnier data (psi) and smoothness (phi) terms re-weighted at the current
estimate, and solves it with `sweeps` SOR sweeps (omega 1.8 by default).

Liu sweeps the pixels in raster order, updating du then dv at each. Here all red
pixels ((row + col) even) are updated at once, then all black ones: the same
Gauss-Seidel dependencies in another order, vectorised. The arrays are
checkerboard-packed, so each half-sweep touches only the pixels it updates. The
same code runs op by op in TF or compiled by XLA (`hdr_keras.ops.flow.buckets`).
"""

from __future__ import annotations

import tensorflow as tf

from hdr_keras.ops.flow.pyramid import (
    _forward_difference,
    _shift_backward,
    _shift_forward,
)

EXTRA_DIAGONAL = 0.05  # Liu's SOR adds alpha * 0.05 to the diagonal
EPSILON = 1e-3**2  # Liu's varepsilon_phi = varepsilon_psi = 0.001 ** 2


def sor_terms(system, alpha: float, omega: float):
    """(neighbour weights left/right/up/down, omega / diagonal for du and dv)."""
    a11, _, a22, _, _, edge_x, edge_y = system
    w_right, w_down = alpha * edge_x, alpha * edge_y
    weights = (_shift_forward(w_right, 2), w_right, _shift_forward(w_down, 1), w_down)
    diagonal = alpha * EXTRA_DIAGONAL + tf.add_n(list(weights))
    return weights, omega / (a11 + diagonal), omega / (a22 + diagonal)


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


def sor(system, sweeps, alpha: float, omega: float):
    """`sweeps` red-black SOR sweeps from zero; returns (du, dv) [B, h, w, 1].

    `system` = (a11, a12, a22, r1, r2, edge_x, edge_y), each [B, h, w, 1]: per pixel
    (a11 + D) du + a12 dv - alpha * sum_n w_n du_n = r1 (and symmetrically for dv)
    with D = alpha * (0.05 + sum_n w_n); edge_x[p] is the weight of the edge
    p -- p + (0, 1) (0 on the last column), edge_y of p -- p + (1, 0).
    Neighbours come from shifted copies of the packed arrays, zero-filled: the
    border's missing neighbours have zero weights. (Shifts by slice and pad, not
    tf.roll: XLA:CPU fuses them into the sweep's loop; with tf.roll a sweep took
    2.8 times as long, 2026-12-02.)
    """
    _, a12, _, r1, r2, _, _ = system
    weights, inv1, inv2 = sor_terms(system, alpha, omega)
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
            previous * _shift_forward(y, 2)
            + same * y
            + following * _shift_backward(y, 2)
            + up * _shift_forward(y, 1)
            + down * _shift_backward(y, 1)
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


def _weighted_laplacian(u, edge_x, edge_y):
    """Liu's Laplacian(u, phi): sum over neighbours of w * (u_p - u_n)."""
    flux_x = edge_x * _forward_difference(u, 2)
    flux_y = edge_y * _forward_difference(u, 1)
    return _shift_forward(flux_x, 2) - flux_x + _shift_forward(flux_y, 1) - flux_y


def increment(ix, iy, it, flow, size, sweeps, *, alpha, inner, omega):
    """flow + (dv, du) of one warping step; ix, iy, it [B, h, w, C] are the
    feature derivatives at the current warp, flow [B, h, w, 2] (dy, dx).

    `size` [2] (int32) is the frame's real (height, width): the arrays may be
    zero-padded beyond it at the bottom and right (`buckets`); the edges
    leaving the frame get weight 0, so a padded pixel (no data term, no edges)
    keeps du = dv = 0 and does not touch the real ones.
    """
    shape = tf.shape(flow)
    rows = tf.range(shape[1])[:, None]
    cols = tf.range(shape[2])[None, :]
    height, width = size[0], size[1]
    x_edges = tf.cast(cols < width - 1, tf.float32)[None, :, :, None]
    y_edges = tf.cast(rows < height - 1, tf.float32)[None, :, :, None]
    not_last_col = x_edges * tf.cast(rows < height, tf.float32)[None, :, :, None]
    not_last_row = y_edges * tf.cast(cols < width, tf.float32)[None, :, :, None]
    v, u = flow[..., :1], flow[..., 1:]
    du = dv = tf.zeros_like(u)
    for _ in range(inner):
        uu, vv = u + du, v + dv
        # differences across the frame's last row / column are 0, also when
        # the arrays are padded beyond it
        smooth = (
            tf.square(_forward_difference(uu, 2) * x_edges)
            + tf.square(_forward_difference(uu, 1) * y_edges)
            + tf.square(_forward_difference(vv, 2) * x_edges)
            + tf.square(_forward_difference(vv, 1) * y_edges)
        )
        phi = 0.5 * tf.math.rsqrt(smooth + EPSILON)
        psi = 0.5 * tf.math.rsqrt(tf.square(it + ix * du + iy * dv) + EPSILON)
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
        du, dv = sor(system, sweeps, alpha, omega)
    return flow + tf.concat([dv, du], axis=-1)
