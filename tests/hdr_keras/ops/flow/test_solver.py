"""The flow solver's SOR, its size buckets and its XLA path (hdr_keras/ops/flow/)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.ops.flow import buckets, sor

RNG = np.random.default_rng(0)


def _raster_sor(system, sweeps, alpha, omega):
    """Liu's SOR as he writes it: raster order, du then dv at each pixel (numpy)."""
    a11, a12, a22, r1, r2, edge_x, edge_y = (np.asarray(t)[0, ..., 0] for t in system)
    height, width = r1.shape
    du, dv = np.zeros_like(r1), np.zeros_like(r1)
    for _ in range(sweeps):
        for i in range(height):
            for j in range(width):
                weights, neighbours = [], []
                if j > 0:
                    weights.append(edge_x[i, j - 1]), neighbours.append((i, j - 1))
                if j < width - 1:
                    weights.append(edge_x[i, j]), neighbours.append((i, j + 1))
                if i > 0:
                    weights.append(edge_y[i - 1, j]), neighbours.append((i - 1, j))
                if i < height - 1:
                    weights.append(edge_y[i, j]), neighbours.append((i + 1, j))
                diagonal = alpha * (sor.EXTRA_DIAGONAL + sum(weights))
                u_sum = alpha * sum(w * du[n] for w, n in zip(weights, neighbours))
                v_sum = alpha * sum(w * dv[n] for w, n in zip(weights, neighbours))
                new_u = (r1[i, j] + u_sum - a12[i, j] * dv[i, j]) / (a11[i, j] + diagonal)
                du[i, j] += omega * (new_u - du[i, j])
                new_v = (r2[i, j] + v_sum - a12[i, j] * du[i, j]) / (a22[i, j] + diagonal)
                dv[i, j] += omega * (new_v - dv[i, j])
    return du, dv


def _system(height, width, batch=1):
    cols, rows = np.arange(width)[None, :], np.arange(height)[:, None]

    def field(low, high):
        return tf.constant(RNG.uniform(low, high, (batch, height, width, 1)), tf.float32)

    edge_x = field(0.1, 1.0) * ((cols < width - 1)[None, ..., None])
    edge_y = field(0.1, 1.0) * ((rows < height - 1)[None, ..., None])
    system = (field(0, 1), field(-0.1, 0.1), field(0, 1), field(-1, 1), field(-1, 1))
    return system + (edge_x, edge_y)


@pytest.mark.parametrize("width", [9, 10])
def test_red_black_sor_converges_to_the_fixed_point_of_liu_raster_sor(width):
    """Red-black and raster order are two orderings of the same Gauss-Seidel
    iteration: after enough sweeps both reach the system's solution."""
    system = _system(7, width)
    du, dv = sor.sor(system, 60, 0.5, 1.5)
    raster_u, raster_v = _raster_sor(system, 60, 0.5, 1.5)
    assert float(np.abs(raster_u).max()) > 0.1
    np.testing.assert_allclose(np.asarray(du)[0, ..., 0], raster_u, atol=1e-4)
    np.testing.assert_allclose(np.asarray(dv)[0, ..., 0], raster_v, atol=1e-4)
    # and a few sweeps are not converged: the comparison above can fail
    few_u, _ = sor.sor(system, 2, 0.5, 1.5)
    assert np.abs(np.asarray(few_u)[0, ..., 0] - raster_u).max() > 1e-2


@pytest.mark.parametrize(
    "size, expected",
    [(1, 32), (32, 32), (33, 64), (64, 64), (65, 128), (128, 128), (129, 160),
     (160, 160), (161, 192), (240, 256), (257, 320), (1000, 1024), (1500, 1536)],
)
def test_buckets_round_up_with_at_most_a_quarter_more(size, expected):
    assert int(buckets.bucket(size)) == expected


def test_pad_to_bucket_repeats_the_border_or_pads_zeros():
    x = tf.constant(RNG.uniform(size=(2, 5, 40, 3)), tf.float32)
    zeros, edge = buckets.pad_to_bucket(x), buckets.pad_to_bucket(x, edge=True)
    assert zeros.shape == edge.shape == (2, 32, 64, 3)
    np.testing.assert_array_equal(zeros[:, :5, :40], x)
    assert not np.asarray(zeros[:, 5:]).any() and not np.asarray(zeros[:, :, 40:]).any()
    np.testing.assert_array_equal(edge[:, 5:, :40], np.repeat(x[:, 4:5], 27, 1))
    np.testing.assert_array_equal(edge[:, :, 40:], np.repeat(edge[:, :, 39:40], 24, 2))


def test_padded_increment_equals_the_unpadded_one():
    """Padded pixels are decoupled: on the bucket = on the frame, with garbage
    beyond the frame."""
    height, width = 11, 37  # bucket 32 x 64: most of the program is padding
    ix, iy, it = (
        tf.constant(RNG.uniform(-1, 1, (2, height, width, 3)), tf.float32)
        for _ in range(3)
    )
    flow = tf.constant(RNG.uniform(-2, 2, (2, height, width, 2)), tf.float32)
    size = tf.constant([height, width])
    options = dict(alpha=0.012, inner=2, omega=1.8)
    plain = sor.increment(ix, iy, it, flow, size, 12, **options)
    assert float(tf.reduce_max(tf.abs(plain - flow))) > 0.1
    padded = [buckets.pad_to_bucket(t) for t in (ix, iy, it)]
    padded = [p + 50.0 * (1.0 - buckets._inside(p, size)) for p in padded]
    # the flow beyond the frame is not garbage-free either (replicated borders)
    padded_flow = buckets.pad_to_bucket(flow, edge=True)
    inside = buckets._inside(padded[0], size)
    same_ops = sor.increment(
        *(p * inside for p in padded), padded_flow, size, 12, **options
    )
    # the same TF ops on more pixels: equal up to float32 rounding
    np.testing.assert_allclose(same_ops[:, :height, :width], plain, atol=1e-5)
    compiled = buckets.increment_flow(*padded, padded_flow, size, tf.constant(12), **options)
    # XLA reassociates float32 sums, and 12 sweeps with omega 1.8 on this random
    # system (increments up to 8 px) amplify that to about 3.5e-4 px, padded or
    # not; a leak through the padding changes the result by 0.5 px or more
    np.testing.assert_allclose(compiled[:, :height, :width], plain, atol=2e-3)
