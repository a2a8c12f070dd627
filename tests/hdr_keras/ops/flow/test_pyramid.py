"""Filters of the flow package: the median filter (hdr_keras/ops/flow/pyramid.py)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from hdr_keras.ops.flow import pyramid


def test_median_filter_removes_an_outlier_and_keeps_a_motion_boundary():
    flow = np.zeros((1, 12, 12, 2), "float32")
    flow[:, :, 6:, 1] = 3.0  # a vertical motion boundary
    flow[0, 3, 2] = (9.0, -9.0)  # an isolated outlier
    filtered = np.asarray(pyramid._median_filter(tf.constant(flow), 5))
    expected = flow.copy()
    expected[0, 3, 2] = 0.0
    np.testing.assert_array_equal(filtered, expected)
