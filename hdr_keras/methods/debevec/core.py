"""Debevec & Malik 1997: recover the camera response g and merge a radiance map.

Pipeline (`debevec_hdr`), per colour channel, all in TensorFlow ops:

1. **Sampling**, deterministic, one of `SAMPLINGS`:
   - "grid" (`grid_samples`, the default): the pixels at the centres of a regular
     ceil(sqrt(samples)) x ceil(sqrt(samples)) grid, as Debevec's pixel samples
     (the frames must be aligned);
   - "grossberg" (`grossberg_samples`): Grossberg & Nayar 2003 histogram sampling,
     as colour-hdri's `samples_Grossberg2003`. Each frame's 256-bin histogram over
     [0, 1] gives a CDF; for `samples` evenly spaced quantiles u in [0, 1] the
     sample in each frame is the first bin whose CDF is nearest to u. Samples are
     pixel *values* of equal scene rank, so no alignment is needed.
   On the real Memorial Church stack the grid agrees better with Debevec's own
   radiance map (16 frames: log-luminance r 0.988 against 0.975 for Grossberg,
   `benchmarks/memorial_debevec.py`); with Grossberg sampling g's lowest levels
   come out far lower on that stack, which has many nearly black frames.
2. **Response** (`g_solve`): Debevec's least-squares system with unknowns g(0..n-1)
   and one log radiance lE_i per sample:
   - data rows      w(Z_ij) (g(Z_ij) - lE_i) = w(Z_ij) B_j   (B_j = log exposure);
   - anchor row     g(n / 2) = 0;
   - smoothness     l_s w(i) (g(i-1) - 2 g(i) + g(i+1)) = 0, i = 1 .. n - 2;
   with the triangle weight of colour-hdri (`weighting_function`). colour-hdri (and
   the reference arrays in shared/data/colour_hdri_tests) solve it with numpy's
   `lstsq`, i.e. its minimum-norm least-squares solution. Here the same solution is
   computed from the normal equations, assembled from the system's sparse structure,
   with the per-sample unknowns eliminated (Schur complement, an n x n solve in
   float64): the dense matrix would hold (N P + n) x (n + P) values (163 MB per
   channel for 16 frames and 1000 samples) and `tf.linalg.lstsq(fast=False)` took
   16 s on a matrix of that size here (2 shared CPU cores). Unknowns that no equation constrains (g at the levels whose weight is
   0 at both ends, 0, 1, 254, 255 by default, and lE of samples with zero weight in
   every frame) are 0, as in the minimum-norm solution. It reproduces the
   reference to about 1e-10.
3. **Merge** (`merge_radiance`): ln E = sum_j w(Z_j) (g(Z_j) - B_j) / sum_j w(Z_j)
   over all frames (Debevec 1997, Eq. 6), with g interpolated linearly between the
   256 levels (exact for 8-bit input). A pixel with zero weight in every frame
   (saturated or black everywhere) takes, if it is bright (mean over frames > 0.5),
   the shortest frame's value at the highest level with positive weight, a lower
   bound on its radiance; if it is dark, the longest frame's value at the lowest
   such level.

Output units: exposures are relative (B_j = ln 2 * stops, shortest frame 0), and
the radiance is scaled so that g's anchor, the level n/2 of the shortest frame, is
(128/255) ** 2.2: the `ldr_to_hdr` value that the stack methods' targets give that
pixel. Any other scale is a global factor (Debevec's g is defined up to one).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from hdr_keras.ops.exposure import ldr_to_hdr

LEVELS = 256  # n: quantisation levels of the response curve (8-bit values)
SMOOTHNESS = 30.0  # l_s (lambda): weight of the smoothness rows (as the reference)
SAMPLES = 1024  # samples per frame (a 32 x 32 grid; colour-hdri samples 1000)
SAMPLINGS = ("grid", "grossberg")
WEIGHT_DOMAIN = (0.01, 0.99)  # the triangle weight is 0 outside this range of [0, 1]


def _grid_peak(domain: tuple[float, float], levels: int) -> float:
    """max over the grid linspace(0, 1, levels) of the unnormalised triangle."""
    grid = np.linspace(0.0, 1.0, levels)
    low, high = domain
    return float(np.max(np.where(grid <= (low + high) / 2, grid - low, high - grid)))


def weighting_function(
    values, domain: tuple[float, float] = WEIGHT_DOMAIN, levels: int = LEVELS
):
    """Debevec's triangle ("hat") weight of values in [0, 1], as colour-hdri's.

    w(z) = z - low for z <= (low + high) / 2, else high - z; divided by its maximum
    over the `levels` grid values k / (levels - 1), negatives set to 0. Keeps the
    dtype of `values` (float32 or float64).
    """
    values = tf.convert_to_tensor(values)
    low, high = (float(bound) for bound in domain)
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(
            f"weight domain must satisfy 0 <= low < high <= 1, got {domain}"
        )
    triangle = tf.where(values <= (low + high) / 2, values - low, high - values)
    return tf.maximum(triangle / _grid_peak(domain, levels), 0.0)


def grid_weights(domain=WEIGHT_DOMAIN, levels: int = LEVELS) -> tf.Tensor:
    """float64 [levels]: `weighting_function` at the levels k / (levels - 1)."""
    grid = tf.constant(np.linspace(0.0, 1.0, levels), tf.float64)
    return weighting_function(grid, domain, levels)


def weighted_level_range(domain=WEIGHT_DOMAIN, levels: int = LEVELS) -> tuple[int, int]:
    """(lowest, highest) level with a positive weight."""
    grid = np.linspace(0.0, 1.0, levels)
    positive = np.flatnonzero((grid > domain[0]) & (grid < domain[1]))
    if positive.size == 0:
        raise ValueError(f"no level has a positive weight in the domain {domain}")
    return int(positive[0]), int(positive[-1])


def _quantiles(samples) -> tf.Tensor:
    """numpy.linspace(0, 1, samples) in float64 (the same values)."""
    samples = tf.convert_to_tensor(samples, tf.int32)
    step = 1.0 / tf.cast(tf.maximum(samples - 1, 1), tf.float64)
    ramp = tf.cast(tf.range(samples), tf.float64) * step
    return tf.where(
        tf.range(samples) == samples - 1, tf.constant(1.0, tf.float64), ramp
    )


@tf.autograph.experimental.do_not_convert
def grossberg_samples(stack, samples=SAMPLES, levels: int = LEVELS) -> tf.Tensor:
    """Histogram (CDF-matching) samples of a stack, Grossberg & Nayar 2003.

    Args:
        stack: [N, H, W, C] frames in [0, 1] (values outside are clipped).
        samples: number of quantiles P.
        levels: histogram bins over [0, 1]; value v falls in bin floor(v * levels)
            (1.0 in the last bin), as `numpy.histogram(v, levels, range=(0, 1))`.
    Returns:
        int32 [P, N, C]: for quantile u_p = p / (P - 1), frame j and channel c, the
        first bin whose normalised CDF is nearest to u_p.
    """
    stack = tf.convert_to_tensor(stack)
    frames, channels = tf.shape(stack)[0], tf.shape(stack)[-1]
    bins = tf.cast(tf.floor(tf.clip_by_value(stack, 0.0, 1.0) * levels), tf.int32)
    bins = tf.minimum(bins, levels - 1)
    # One row per (frame, channel): [N * C, H * W] -> histograms [N * C, levels].
    rows = tf.reshape(tf.transpose(bins, [0, 3, 1, 2]), [frames * channels, -1])
    counts = tf.math.bincount(
        rows, minlength=levels, maxlength=levels, axis=-1, dtype=tf.int64
    )
    cdf = tf.cast(tf.cumsum(counts, axis=-1), tf.float64)
    cdf = cdf / cdf[:, -1:]
    u = tf.broadcast_to(_quantiles(samples)[None], [frames * channels, samples])
    # The CDF is non-decreasing: the nearest value is cdf[j] (first j with
    # cdf[j] >= u) or cdf[j - 1]; ties go to the lower bin, whose first occurrence
    # in a flat run is found by a second search.
    above = tf.minimum(tf.searchsorted(cdf, u, side="left"), levels - 1)
    below = tf.maximum(above - 1, 0)
    cdf_above = tf.gather(cdf, above, batch_dims=1)
    cdf_below = tf.gather(cdf, below, batch_dims=1)
    below_first = tf.searchsorted(cdf, cdf_below, side="left")
    take_below = (above > 0) & (tf.abs(cdf_below - u) <= tf.abs(cdf_above - u))
    nearest = tf.where(take_below, below_first, above)  # [N * C, P]
    nearest = tf.reshape(nearest, [frames, channels, samples])
    return tf.transpose(nearest, [2, 0, 1])


@tf.autograph.experimental.do_not_convert
def grid_samples(stack, samples=SAMPLES, levels: int = LEVELS) -> tf.Tensor:
    """Values at a regular grid of pixels: int32 [n * n, N, C], n = ceil(sqrt(P)).

    The grid points are the centres of n x n equal cells of the image (clamped to
    the image for images smaller than n); values v in [0, 1] become the levels
    round(v * (levels - 1)).
    """
    stack = tf.convert_to_tensor(stack)
    side = int(math.ceil(math.sqrt(int(samples))))
    shape = tf.shape(stack)

    def centres(size):
        cells = (tf.range(side, dtype=tf.float32) + 0.5) * tf.cast(size, tf.float32)
        return tf.minimum(tf.cast(cells / side, tf.int32), size - 1)

    picked = tf.gather(
        tf.gather(stack, centres(shape[1]), axis=1), centres(shape[2]), axis=2
    )
    levels_of = tf.round(tf.clip_by_value(picked, 0.0, 1.0) * (levels - 1))
    flat = tf.reshape(tf.cast(levels_of, tf.int32), [shape[0], side * side, shape[3]])
    return tf.transpose(flat, [1, 0, 2])


@tf.autograph.experimental.do_not_convert
def g_solve(
    samples,
    log_exposures,
    smoothness: float = SMOOTHNESS,
    levels: int = LEVELS,
    domain=WEIGHT_DOMAIN,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Debevec & Malik's response recovery (their Matlab `gsolve`, colour-hdri's `g_solve`).

    Args:
        samples: Z [P, N] integer levels in [0, levels) of P samples in N frames.
        log_exposures: B [N], the natural log of each frame's exposure.
        smoothness: l_s, the weight of the second-difference rows.
        levels: n, the number of levels of g.
        domain: support of the triangle weight (see `weighting_function`).
    Returns:
        (g [n], lE [P]) float64: the log inverse response (g(n / 2) = 0) and the
        log radiance of each sample; the minimum-norm least-squares solution (see
        the module docstring).
    """
    z = tf.cast(samples, tf.int32)
    b = tf.cast(log_exposures, tf.float64)
    n = levels
    count, frames = tf.shape(z)[0], tf.shape(z)[1]
    weights = grid_weights(domain, levels)
    w2 = tf.square(tf.gather(weights, z))  # [P, N]: squared row weights
    w2b = w2 * b[None, :]
    flat_z = tf.reshape(z, [-1])

    # Normal equations [[G, C], [C^T, diag(D)]] [g; lE] = [r_g; r_e].
    sample_index = tf.broadcast_to(tf.range(count)[:, None], [count, frames])
    coupling = -tf.scatter_nd(tf.stack([z, sample_index], -1), w2, [n, count])
    diag_e = tf.reduce_sum(w2, axis=1)
    rhs_e = -tf.reduce_sum(w2b, axis=1)
    data_g = tf.math.unsorted_segment_sum(tf.reshape(w2, [-1]), flat_z, n)
    rhs_g = tf.math.unsorted_segment_sum(tf.reshape(w2b, [-1]), flat_z, n)
    identity = tf.eye(n, dtype=tf.float64)
    second = identity[:-2] - 2.0 * identity[1:-1] + identity[2:]
    smooth_rows = second * (smoothness * weights[1:-1])[:, None]  # [n - 2, n]
    anchor = tf.one_hot(n // 2, n, dtype=tf.float64)
    gram = (
        tf.linalg.diag(data_g)
        + tf.matmul(smooth_rows, smooth_rows, transpose_a=True)
        + anchor[:, None] * anchor[None, :]
    )

    # Eliminate lE (diagonal block): (G - C D^-1 C^T) g = r_g - C D^-1 r_e.
    inverse_d = tf.math.divide_no_nan(tf.ones_like(diag_e), diag_e)
    reduced = gram - tf.matmul(
        coupling * inverse_d[None, :], coupling, transpose_b=True
    )
    reduced_rhs = rhs_g - tf.linalg.matvec(coupling, rhs_e * inverse_d)
    # Levels that no equation touches have an all-zero row and column: fix them at 0.
    diagonal = tf.linalg.diag_part(reduced)
    free = tf.equal(diagonal, 0.0)
    reduced = tf.linalg.set_diag(
        reduced, tf.where(free, tf.ones_like(diagonal), diagonal)
    )
    reduced_rhs = tf.where(free, tf.zeros_like(reduced_rhs), reduced_rhs)
    g = tf.linalg.solve(reduced, reduced_rhs[:, None])[:, 0]
    log_radiance = (rhs_e - tf.linalg.matvec(coupling, g, transpose_a=True)) * inverse_d
    return g, log_radiance


@tf.autograph.experimental.do_not_convert
def recover_response(
    stack,
    log_exposures,
    samples=SAMPLES,
    smoothness: float = SMOOTHNESS,
    levels: int = LEVELS,
    domain=WEIGHT_DOMAIN,
    sampling: str = "grid",
) -> tf.Tensor:
    """g per channel, float64 [C, levels], calibrated from the stack [N, H, W, C]."""
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    sampler = grid_samples if sampling == "grid" else grossberg_samples
    z = sampler(stack, samples, levels)  # [P, N, C]
    channels = stack.shape[-1]
    if channels is None:
        raise ValueError("the stack's channel count must be known (3 for RGB)")
    return tf.stack(
        [
            g_solve(z[..., c], log_exposures, smoothness, levels, domain)[0]
            for c in range(channels)
        ]
    )


def _lookup(curves, values, levels: int):
    """curves [C, levels] interpolated linearly at values [..., C] * (levels - 1)."""
    position = tf.clip_by_value(values, 0.0, 1.0) * (levels - 1)
    lower = tf.minimum(tf.floor(position), levels - 2)
    fraction = position - lower
    channels = tf.shape(curves)[0]
    flat = tf.reshape(tf.transpose(curves), [-1])  # [levels * C], level-major
    index = tf.cast(lower, tf.int32) * channels + tf.range(channels)
    left = tf.gather(flat, index)
    right = tf.gather(flat, index + channels)
    return left + fraction * (right - left)


@tf.autograph.experimental.do_not_convert
def merge_radiance(
    stack,
    log_exposures,
    response,
    levels: int = LEVELS,
    domain=WEIGHT_DOMAIN,
) -> tf.Tensor:
    """Linear radiance [H, W, C] (float32) of a stack given its response curves.

    Args:
        stack: [N, H, W, C] frames in [0, 1].
        log_exposures: [N] natural log of each frame's exposure (any order).
        response: g per channel [C, levels] (`recover_response`).
    Returns:
        exp(ln E) with ln E the weighted mean of g(Z_j) - B_j (module docstring,
        including the rule for pixels with no usable frame); not rescaled.
    """
    stack = tf.clip_by_value(tf.cast(stack, tf.float32), 0.0, 1.0)
    b = tf.cast(log_exposures, tf.float32)[:, None, None, None]
    curves = tf.cast(response, tf.float32)
    weights = weighting_function(stack, domain, levels)
    log_values = _lookup(curves, stack, levels) - b
    total = tf.reduce_sum(weights, axis=0)
    merged = tf.math.divide_no_nan(tf.reduce_sum(weights * log_values, axis=0), total)

    lowest, highest = weighted_level_range(domain, levels)
    b = b[:, 0, 0, 0]
    bright_value = curves[:, highest] - tf.reduce_min(b)  # [C]
    dark_value = curves[:, lowest] - tf.reduce_max(b)
    bright = tf.reduce_mean(stack, axis=0) > 0.5
    fallback = tf.where(bright, bright_value, dark_value)
    return tf.exp(tf.where(total > 0.0, merged, fallback))


def anchor_scale(levels: int = LEVELS) -> tf.Tensor:
    """(level n/2 as a value in [0, 1]) ** gamma: radiance of g's anchor (docstring)."""
    return ldr_to_hdr(tf.constant((levels // 2) / (levels - 1), tf.float32), 1.0)


@tf.autograph.experimental.do_not_convert
def debevec_hdr(
    stack,
    exposure,
    samples=SAMPLES,
    smoothness: float = SMOOTHNESS,
    levels: int = LEVELS,
    domain=WEIGHT_DOMAIN,
    sampling: str = "grid",
) -> tf.Tensor:
    """Calibrate on the stack itself, then merge: linear HDR [H, W, C] float32.

    Args:
        stack: [N, H, W, C] frames in [0, 1] (N >= 2), display-referred as the
            camera wrote them, any order.
        exposure: [N] exposure biases in stops (only differences matter).
    Returns:
        Radiance in units of the shortest exposure, scaled as in the module
        docstring.
    """
    stops = tf.cast(exposure, tf.float64)
    log_exposures = (stops - tf.reduce_min(stops)) * math.log(2.0)
    response = recover_response(
        stack, log_exposures, samples, smoothness, levels, domain, sampling
    )
    radiance = merge_radiance(stack, log_exposures, response, levels, domain)
    return radiance * anchor_scale(levels)
