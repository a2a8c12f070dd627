"""Optical flow and warping in TensorFlow ops, for Kalantari & Ramamoorthi's alignment.

TensorFlow has no optical flow and tensorflow-addons (`dense_image_warp`) is dead, so
this module provides (all TF ops, dynamic H and W, usable inside `tf.function` and
SavedModels):

- `warp(image, flow, interpolation)`: image(p + flow(p)) with bilinear or bicubic
  (Keys, a = -0.5, as MATLAB's `interp2(..., 'cubic')`) interpolation; samples outside
  the frame clamp to the border; differentiable w.r.t. the image and the flow.
- `outside_mask(flow)`: where p + flow(p) leaves the frame.
- `estimate_flow(reference, moving)`: Ce Liu's coarse-to-fine variational optical
  flow (the code Kalantari's alignment calls, METHODS.md section 1), such that
  `warp(moving, flow)` matches `reference`.
- `reexpose(ldr, from_time, to_time)` and `align_stack(ldr, exposure)`: Kalantari's
  alignment of an exposure stack to its reference frame.

Flow convention: [B, H, W, 2] in pixels, channel 0 = dy (rows), channel 1 = dx
(columns). Pixel p = (y, x) of the output samples the input at (y + dy, x + dx);
coordinates are pixel centres, 0 .. H-1 and 0 .. W-1.

The flow estimator follows Liu's `OpticalFlow::Coarse2FineFlow` / `SmoothFlowSOR`
(the C++ behind `Coarse2FineTwoFrames`), in grey levels:
- Gaussian pyramid: level i is level max(0, i - n) (n = floor(log 0.25 / log ratio))
  blurred with sigma = (1/ratio - 1) * (i - that level), resized to ratio**i of the
  original size (bilinear); floor(log(min_width / W) / log(ratio)) levels (at least 1).
- features per level: grey, and its x/y derivatives ([1, -8, 0, 8, -1] / 12) when
  `gradient_constancy` (Liu's `im2feature`), all with the same robust data term;
- per level (coarse to fine, the flow of the coarser level resized and scaled):
  `outer_iterations + k` re-warpings (k = level index, 0 = finest); the moving
  features are warped with `interpolation` (bicubic by default, Liu's alternative
  branch: his default, bilinear, gives about 1.7 times the end-point error on
  the benchmark), pixels whose flow leaves the frame take the reference's values; derivatives of 0.4 * reference + 0.6 * warped after a
  [0.02, 0.11, 0.74, 0.11, 0.02] blur; `inner_iterations` IRLS re-weightings of the
  Charbonnier data (psi) and smoothness (phi) terms (epsilon 1e-3); the linear system
  (with Liu's extra 0.05 * alpha diagonal term) solved by `sor_iterations + 3k`
  sweeps of SOR (omega 1.8), vectorised as red-black Gauss-Seidel (on
  checkerboard-packed arrays; with XLA on masked full-size arrays, which it fuses).
The estimator is not differentiated through: its inputs pass `tf.stop_gradient`
(the flow is a constant for a loss; `warp` stays differentiable).

Deviations from Liu's code: grey only (no G-R, G-B colour features); the flow is
scaled by the exact size ratio between levels (Liu: 1 / ratio); pyramid resizing
uses TF's half-pixel-centre convention; the Gaussian cut-off floor(3 sigma) is
computed with a small tolerance (Liu's double arithmetic truncates 3 * (1/0.75 - 1)
to 0, leaving level 1 unblurred); red-black instead of raster SOR order.
Speed: every op is a TF op, so TF's per-op overhead matters on the small pyramid
levels and memory traffic on the large ones; `jit_compile=True` runs each level's
solver through XLA (its SOR sweeps are faster) at the price of one compilation per
level size, which takes minutes for a large image on a small CPU.
"""

from __future__ import annotations

import math

import tensorflow as tf

from hdr_keras.constants import (
    FLOW_ALPHA,
    FLOW_INNER_ITERATIONS,
    FLOW_MIN_WIDTH,
    FLOW_OUTER_ITERATIONS,
    FLOW_RATIO,
    FLOW_SOR_ITERATIONS,
    FLOW_SOR_OMEGA,
    FLOW_MEDIAN_FILTER,
    FLOW_WARP_INTERPOLATION,
    GAMMA,
)
from hdr_keras.ops.color import luminance
from hdr_keras.ops.exposure import ev_to_time, hdr_to_ldr, ldr_to_hdr
from hdr_keras.ops.stack import default_reference

INTERPOLATIONS = ("bilinear", "bicubic")
KEYS_A = -0.5  # Keys' cubic convolution parameter (MATLAB interp2 'cubic')
_EPSILON = 1e-3**2  # Liu's varepsilon_phi = varepsilon_psi = 0.001 ** 2
_DERIVATIVE_TAPS = (1.0 / 12, -8.0 / 12, 0.0, 8.0 / 12, -1.0 / 12)
_DT_BLUR_TAPS = (0.02, 0.11, 0.74, 0.11, 0.02)  # Liu's getDxs pre-filter
_EXTRA_DIAGONAL = 0.05  # Liu's SOR adds alpha * 0.05 to the diagonal
_REFERENCE_WEIGHT = 0.4  # spatial derivatives of 0.4 * reference + 0.6 * warped


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


# ----------------------------------------------------------------------------- solver


def _features(grey: tf.Tensor, gradient_constancy: bool) -> tf.Tensor:
    """Liu's im2feature: [grey, d/dx, d/dy] (or [grey]) of grey [B, H, W, 1]."""
    if not gradient_constancy:
        return grey
    dx = _filter(grey, _DERIVATIVE_TAPS, 2)
    dy = _filter(grey, _DERIVATIVE_TAPS, 1)
    return tf.concat([grey, dx, dy], axis=-1)


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


def _median_filter(flow: tf.Tensor, size: int) -> tf.Tensor:
    """Per-channel size x size median of `flow` [B, h, w, 2] (edges replicated).

    Sun, Roth & Black 2010 ("Secrets of optical flow estimation"): filtering the
    flow after each warping step removes outliers near motion boundaries.
    """
    radius = size // 2
    padded = _pad_edge(_pad_edge(flow, radius, radius, 1), radius, radius, 2)
    patches = tf.image.extract_patches(
        padded,
        sizes=[1, size, size, 1],
        strides=[1, 1, 1, 1],
        rates=[1, 1, 1, 1],
        padding="VALID",
    )
    shape = tf.shape(flow)
    patches = tf.reshape(patches, [shape[0], shape[1], shape[2], size * size, 2])
    return tf.sort(patches, axis=3)[:, :, :, (size * size) // 2, :]


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


def _coarse_to_fine(
    grey_pair,
    *,
    alpha,
    ratio,
    min_width,
    outer,
    inner,
    sor,
    omega,
    gradient,
    jit_compile,
    interpolation,
    median,
):
    """Liu's Coarse2FineFlow on grey_pair [B, H, W, 2] (reference, moving)."""
    shape = tf.shape(grey_pair)
    levels = _num_levels(shape[2], ratio, min_width)
    pyramid = _build_pyramid(grey_pair, levels, ratio)
    top = tf.shape(pyramid.read(levels - 1))
    refine = _refine_level_xla if jit_compile else _refine_level
    options = dict(alpha=alpha, inner=inner, omega=omega, gradient=gradient)
    options.update(packed=not jit_compile, interpolation=interpolation, median=median)

    def body(k, flow):
        level = pyramid.read(k)
        size = tf.shape(level)[1:3]
        scale = tf.cast(size, tf.float32) / tf.cast(tf.shape(flow)[1:3], tf.float32)
        flow = tf.image.resize(flow, size, "bilinear") * scale
        flow = refine(level, flow, outer + k, sor + 3 * k, **options)
        return k - 1, flow

    flow = tf.zeros([shape[0], top[1], top[2], 2], tf.float32)
    _, flow = tf.while_loop(
        lambda k, _: k >= 0,
        body,
        [levels - 1, flow],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, None, None, 2])],
    )
    return flow


_coarse_to_fine_graph = tf.function(
    _coarse_to_fine, reduce_retracing=True, autograph=False
)


def _to_grey(image: tf.Tensor) -> tf.Tensor:
    channels = image.shape[-1]
    if channels == 1:
        return image
    if channels == 3:
        return luminance(image)
    raise ValueError(f"images must have 1 or 3 channels for flow, got {image.shape}")


def estimate_flow(
    reference,
    moving,
    alpha: float = FLOW_ALPHA,
    ratio: float = FLOW_RATIO,
    min_width: int = FLOW_MIN_WIDTH,
    outer_iterations: int = FLOW_OUTER_ITERATIONS,
    inner_iterations: int = FLOW_INNER_ITERATIONS,
    sor_iterations: int = FLOW_SOR_ITERATIONS,
    gradient_constancy: bool = True,
    omega: float = FLOW_SOR_OMEGA,
    interpolation: str = FLOW_WARP_INTERPOLATION,
    jit_compile: bool = False,
    median_filter: int = FLOW_MEDIAN_FILTER,
) -> tf.Tensor:
    """Dense optical flow such that `warp(moving, flow)` matches `reference`.

    Ce Liu's coarse-to-fine variational method (see the module docstring) with the
    parameters of Kalantari's code by default (METHODS.md section 1).

    Args:
        reference, moving: float [B, H, W, C] in [0, 1], C = 3 (RGB, converted to
            grey with `hdr_keras.ops.color.luminance`) or 1; same shape.
        alpha: smoothness weight.
        ratio: pyramid downsampling ratio, in (0.4, 0.98) as Liu requires.
        min_width: the pyramid has floor(log(min_width / W) / log(ratio)) levels.
        outer_iterations, inner_iterations, sor_iterations: Liu's nOuterFPIterations,
            nInnerFPIterations, nSORIterations (the coarser levels get more:
            + level and + 3 * level).
        gradient_constancy: add Liu's gradient features to the data term.
        omega: SOR over-relaxation factor.
        interpolation: how the solver re-warps the moving frame: "bicubic"
            (default, more accurate) or "bilinear" (Liu's default).
        jit_compile: run each pyramid level's solver with XLA (faster on large
            images; compiles once per level size).
        median_filter: odd size of the median filter applied to the flow after
            each warping step (Sun, Roth & Black 2010; not in Liu's code); 0 or 1
            turns it off (Liu's behaviour).
    Returns:
        float32 [B, H, W, 2], (dy, dx) in pixels; no gradient flows through it.
    """
    if not 0.4 <= ratio <= 0.98:
        raise ValueError(f"ratio must be in [0.4, 0.98] (Liu's range), got {ratio}")
    if min_width < 1:
        raise ValueError(f"min_width must be >= 1, got {min_width}")
    for name, value in (
        ("outer_iterations", outer_iterations),
        ("inner_iterations", inner_iterations),
        ("sor_iterations", sor_iterations),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    _check_interpolation(interpolation)
    if int(median_filter) != median_filter or (
        median_filter > 1 and median_filter % 2 == 0
    ):
        raise ValueError(f"median_filter must be 0, 1 or odd, got {median_filter!r}")
    if alpha <= 0 or not 0 < omega < 2:
        raise ValueError(f"need alpha > 0 and 0 < omega < 2, got {alpha}, {omega}")
    reference = _as_image(reference, "reference")
    moving = _as_image(moving, "moving")
    if reference.shape[-1] != moving.shape[-1]:
        raise ValueError(
            f"reference {reference.shape} and moving {moving.shape} must have the "
            "same number of channels"
        )
    _check_same_grid(reference, moving, "reference", "moving")
    grey = tf.stop_gradient(tf.concat([_to_grey(reference), _to_grey(moving)], axis=-1))
    return _coarse_to_fine_graph(
        grey,
        alpha=float(alpha),
        ratio=float(ratio),
        min_width=float(min_width),
        outer=int(outer_iterations),
        inner=int(inner_iterations),
        sor=int(sor_iterations),
        omega=float(omega),
        gradient=bool(gradient_constancy),
        jit_compile=bool(jit_compile),
        interpolation=interpolation,
        median=int(median_filter),
    )


# ----------------------------------------------------------------------------- stacks


def reexpose(ldr, from_time, to_time, gamma: float = GAMMA) -> tf.Tensor:
    """LDR shot with exposure time `from_time` as if shot with `to_time`.

    Through the linear domain with `hdr_keras.ops.exposure`:
    clip((Z ** gamma / from_time * to_time) ** (1 / gamma), 0, 1). Times broadcast
    against `ldr` (scalars, or e.g. [B, 1, 1, 1]).
    """
    ldr = tf.convert_to_tensor(ldr, tf.float32)
    hdr = ldr_to_hdr(ldr, tf.cast(from_time, tf.float32), gamma)
    return tf.convert_to_tensor(hdr_to_ldr(hdr, tf.cast(to_time, tf.float32), gamma))


def align_stack(ldr, exposure, reference=None, **flow_params):
    """Kalantari's alignment: every frame warped onto the reference frame.

    For each non-reference frame: the darker of (frame, reference) is re-exposed to
    the brighter one's exposure, the flow reference <- frame is estimated on the
    pair (`estimate_flow`, `flow_params`), the ORIGINAL frame is warped with it
    (bicubic) and clipped to [0, 1]; pixels whose flow leaves the frame take the
    reference re-exposed to that frame's exposure.

    Args:
        ldr: float [B, N, H, W, 3] in [0, 1], N >= 2 (static or dynamic N).
        exposure: float [B, N] exposure biases in stops (t = 2 ** stops).
        reference: index of the reference frame (an int or a scalar int tensor);
            None = `hdr_keras.ops.stack.default_reference(N)` (the middle frame).
        **flow_params: keyword arguments of `estimate_flow`.
    Returns:
        (aligned float32 [B, N, H, W, 3], valid float32 [B, N, H, W, 1]): valid is
        0 where a frame was filled from the reference, 1 elsewhere and on the
        reference frame (which is returned unchanged).
    """
    ldr = tf.convert_to_tensor(ldr)
    if ldr.shape.rank is not None and ldr.shape.rank != 5:
        raise ValueError(f"ldr must be rank 5 [B, N, H, W, 3], got shape {ldr.shape}")
    if ldr.shape[-1] is not None and ldr.shape[-1] != 3:
        raise ValueError(f"ldr must have 3 channels (RGB), got shape {ldr.shape}")
    ldr = tf.ensure_shape(tf.cast(ldr, tf.float32), [None, None, None, None, 3])
    exposure = tf.cast(tf.convert_to_tensor(exposure), tf.float32)
    if exposure.shape.rank is not None and exposure.shape.rank != 2:
        raise ValueError(f"exposure must be rank 2 [B, N], got shape {exposure.shape}")
    static_n = ldr.shape[1]
    if static_n is not None and static_n < 2:
        raise ValueError(f"ldr must hold N >= 2 frames, got shape {ldr.shape}")
    if not ldr.shape[:2].is_compatible_with(exposure.shape):
        raise ValueError(
            f"exposure {exposure.shape} must be [B, N] for ldr {ldr.shape}"
        )
    shape = tf.shape(ldr)
    batch, frames, height, width = shape[0], shape[1], shape[2], shape[3]
    tf.debugging.assert_equal(
        tf.shape(exposure), shape[:2], message="exposure must be [B, N] for ldr"
    )
    tf.debugging.assert_greater_equal(frames, 2, message="ldr must hold N >= 2 frames")
    if reference is None:
        reference = default_reference(frames if static_n is None else static_n)
    elif isinstance(reference, int) and static_n is not None:
        if not 0 <= reference < static_n:
            raise ValueError(
                f"reference must be in [0, {static_n - 1}], got {reference}"
            )
    reference = tf.convert_to_tensor(reference, tf.int32)
    others = tf.concat([tf.range(reference), tf.range(reference + 1, frames)], 0)
    count = frames - 1

    moving = tf.gather(ldr, others, axis=1)  # [B, N-1, H, W, 3]
    moving_ev = tf.gather(exposure, others, axis=1)  # [B, N-1]
    ref = tf.gather(ldr, reference, axis=1)[:, None]  # [B, 1, H, W, 3]
    ref_ev = tf.gather(exposure, reference, axis=1)[:, None]  # [B, 1]
    bright_ev = tf.maximum(moving_ev, ref_ev)

    def time(ev):
        return tf.convert_to_tensor(ev_to_time(ev))[..., None, None, None]

    moving_eq = reexpose(moving, time(moving_ev), time(bright_ev))
    ref_eq = reexpose(ref, time(ref_ev), time(bright_ev))  # broadcasts to N-1
    fill = reexpose(ref, time(ref_ev), time(moving_ev))

    def flat(x):
        return tf.reshape(x, [batch * count, height, width, x.shape[-1]])

    flow = estimate_flow(flat(ref_eq), flat(moving_eq), **flow_params)
    warped = tf.clip_by_value(warp(flat(moving), flow, "bicubic"), 0.0, 1.0)
    outside = outside_mask(flow)
    aligned = tf.where(outside > 0.0, flat(fill), warped)
    aligned = tf.reshape(aligned, [batch, count, height, width, 3])
    valid = tf.reshape(1.0 - outside, [batch, count, height, width, 1])

    def insert(others_stack, ref_frame):
        return tf.concat(
            [others_stack[:, :reference], ref_frame, others_stack[:, reference:]], 1
        )

    aligned = insert(aligned, ref)
    valid = insert(valid, tf.ones_like(ref[..., :1]))
    if static_n is not None:
        aligned = tf.ensure_shape(aligned, [None, static_n, None, None, 3])
        valid = tf.ensure_shape(valid, [None, static_n, None, None, 1])
    return aligned, valid
