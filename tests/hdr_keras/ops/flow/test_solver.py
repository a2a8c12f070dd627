"""Red-black SOR of the flow solver (hdr_keras/ops/flow/solver.py)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.ops.flow import solver

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("width", [9, 10])
def test_packed_red_black_sor_equals_the_masked_one(width):
    height = 7
    cols, rows = np.arange(width)[None, :], np.arange(height)[:, None]

    def field(low, high):
        return tf.constant(RNG.uniform(low, high, (2, height, width, 1)), tf.float32)

    edge_x = field(0.1, 1.0) * ((cols < width - 1)[None, ..., None])
    edge_y = field(0.1, 1.0) * ((rows < height - 1)[None, ..., None])
    system = (field(0, 1), field(-0.1, 0.1), field(0, 1), field(-1, 1), field(-1, 1))
    system += (edge_x, edge_y)
    masked = solver._sor(system, 7, 0.5, 1.8)
    packed = solver._sor_packed(system, 7, 0.5, 1.8)
    for a, b in zip(masked, packed):
        assert float(tf.reduce_max(tf.abs(a))) > 0.1
        np.testing.assert_allclose(a, b, atol=1e-5)
