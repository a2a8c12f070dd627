"""Backward warping and the outside mask (hdr_keras/ops/flow/warping.py)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.ops.flow import outside_mask, warp

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_warp_integer_shift_is_exact_in_the_interior(interpolation):
    image = RNG.uniform(0, 1, (2, 12, 16, 3)).astype("float32")
    flow = np.zeros((2, 12, 16, 2), "float32")
    flow[0, ..., 0], flow[0, ..., 1] = 2.0, -3.0
    flow[1, ..., 0], flow[1, ..., 1] = -1.0, 4.0
    out = np.asarray(warp(image, flow, interpolation))
    # output(y, x) = image(y + dy, x + dx); interior = all taps inside the frame
    np.testing.assert_array_equal(out[0, 1:8, 5:13], image[0, 3:10, 2:10])
    np.testing.assert_array_equal(out[1, 3:9, 1:9], image[1, 2:8, 5:13])


def _keys(s, a=-0.5):
    s = np.abs(s)
    return np.where(
        s <= 1,
        (a + 2) * s**3 - (a + 3) * s**2 + 1,
        np.where(s < 2, a * s**3 - 5 * a * s**2 + 8 * a * s - 4 * a, 0.0),
    )


def _reference_warp(image, flow, interpolation):
    """Direct NumPy evaluation: sum over taps of kernel(distance) * clamped pixel."""
    b, h, w, c = image.shape
    out = np.zeros_like(image, dtype=np.float64)
    kernel = (
        _keys if interpolation == "bicubic" else lambda s: np.maximum(1 - abs(s), 0)
    )
    reach = 2 if interpolation == "bicubic" else 1
    for n in range(b):
        for i in range(h):
            for j in range(w):
                y, x = i + flow[n, i, j, 0], j + flow[n, i, j, 1]
                for ty in range(
                    int(np.floor(y)) - reach + 1, int(np.floor(y)) + reach + 1
                ):
                    for tx in range(
                        int(np.floor(x)) - reach + 1, int(np.floor(x)) + reach + 1
                    ):
                        weight = kernel(y - ty) * kernel(x - tx)
                        pixel = image[n, min(max(ty, 0), h - 1), min(max(tx, 0), w - 1)]
                        out[n, i, j] += weight * pixel
    return out


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_warp_matches_direct_kernel_evaluation(interpolation):
    image = RNG.uniform(0, 1, (2, 6, 7, 2)).astype("float32")
    flow = RNG.uniform(-3, 3, (2, 6, 7, 2)).astype("float32")
    expected = _reference_warp(image, flow, interpolation)
    np.testing.assert_allclose(warp(image, flow, interpolation), expected, atol=2e-6)


def test_warp_clamps_to_the_border_and_outside_mask_marks_it():
    image = RNG.uniform(0, 1, (1, 5, 6, 1)).astype("float32")
    flow = np.zeros((1, 5, 6, 2), "float32")
    flow[0, :, :, 1] = 100.0  # far right of the frame
    flow[0, 0, 0] = (-0.5, 0.0)  # just above the frame
    flow[0, 4, 5] = (0.0, 0.0)  # the corner itself is inside
    out = np.asarray(warp(image, flow, "bicubic"))
    np.testing.assert_allclose(out[0, 1:, :5, 0], np.repeat(image[0, 1:, 5:, 0], 5, 1))
    mask = np.asarray(outside_mask(flow))[0, ..., 0]
    expected = np.ones((5, 6))
    expected[4, 5] = 0.0
    np.testing.assert_array_equal(mask, expected)
    assert outside_mask(np.zeros((2, 3, 4, 2), "float32")).shape == (2, 3, 4, 1)


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_warp_gradients_match_finite_differences(interpolation):
    image = tf.constant(RNG.uniform(0, 1, (1, 5, 6, 2)), tf.float64)
    # fractional parts away from 0 and 1: the interpolant is smooth there
    flow = tf.constant(RNG.uniform(0.2, 0.8, (1, 5, 6, 2)) * [1, -1], tf.float64)
    weights = tf.constant(RNG.normal(0, 1, (1, 5, 6, 2)), tf.float64)

    def loss(image, flow):
        out = warp(tf.cast(image, tf.float32), tf.cast(flow, tf.float32), interpolation)
        return tf.reduce_sum(tf.cast(out, tf.float64) * weights)

    with tf.GradientTape() as tape:
        tape.watch([image, flow])
        value = loss(image, flow)
    grads = tape.gradient(value, [image, flow])
    h = 1e-3
    for i, grad in enumerate(grads):
        assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0.01
        for _ in range(3):  # directional derivatives along random directions
            d = tf.constant(RNG.normal(0, 1, grad.shape), tf.float64)
            args = [image, flow]
            plus, minus = list(args), list(args)
            plus[i], minus[i] = args[i] + h * d, args[i] - h * d
            numeric = (loss(*plus) - loss(*minus)) / (2 * h)
            analytic = tf.reduce_sum(grad * d)
            np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=2e-2)


def test_warp_rejects_bad_arguments():
    image = np.zeros((1, 4, 5, 3), "float32")
    with pytest.raises(ValueError, match="interpolation"):
        warp(image, np.zeros((1, 4, 5, 2), "float32"), "nearest")
    with pytest.raises(ValueError, match="flow must have 2 channels"):
        warp(image, np.zeros((1, 4, 5, 3), "float32"))
    with pytest.raises(ValueError, match="image must be rank 4"):
        warp(image[0], np.zeros((1, 4, 5, 2), "float32"))
    with pytest.raises(ValueError, match="same batch, height and width"):
        warp(image, np.zeros((1, 4, 6, 2), "float32"))
