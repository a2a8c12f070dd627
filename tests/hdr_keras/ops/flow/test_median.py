"""The flow's median filter (hdr_keras/ops/flow/median.py)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.ops.flow import median


def _numpy_median(x, size):
    radius = size // 2
    padded = np.pad(x, [(0, 0), (radius, radius), (radius, radius), (0, 0)], "edge")
    height, width = x.shape[1:3]
    windows = [
        padded[:, i : i + height, j : j + width]
        for i in range(size)
        for j in range(size)
    ]
    return np.median(np.stack(windows), axis=0)


@pytest.mark.parametrize("size", [3, 5, 7])
@pytest.mark.parametrize("shape", [(2, 7, 9, 2), (1, 1, 1, 2), (1, 3, 2, 1)])
def test_median_network_is_the_exact_median(size, shape):
    rng = np.random.default_rng(size)
    for values in (rng.normal(size=shape), np.round(rng.normal(size=shape))):  # ties
        x = values.astype("float32")
        np.testing.assert_array_equal(
            median.median_filter(tf.constant(x), size), _numpy_median(x, size)
        )


def test_median_network_is_pruned():
    nodes, keep, _ = median._median_network(5)
    column_nodes, _ = median._column_network(5)
    # a full sort of 25 values per pixel would need hundreds of comparisons
    assert len(column_nodes) == 18 and len(keep) < len(nodes) and len(keep) <= 160


def test_median_filter_removes_an_outlier_and_keeps_a_motion_boundary():
    flow = np.zeros((1, 12, 12, 2), "float32")
    flow[:, :, 6:, 1] = 3.0  # a vertical motion boundary
    flow[0, 3, 2] = (9.0, -9.0)  # an isolated outlier
    filtered = np.asarray(median.median_filter(tf.constant(flow), 5))
    expected = flow.copy()
    expected[0, 3, 2] = 0.0
    np.testing.assert_array_equal(filtered, expected)


@pytest.mark.parametrize("size", [3, 5])
def test_compiled_median_on_a_padded_array_is_the_median_of_the_frame(size):
    """`buckets.median` (XLA, array padded to its bucket, garbage in the padding)
    gives on the frame exactly the median of the unpadded array."""
    from hdr_keras.ops.flow import buckets

    rng = np.random.default_rng(size)
    x = np.round(rng.normal(size=(2, 37, 45, 2)) * 4).astype("float32")  # ties too
    padded = buckets.pad_to_bucket(tf.constant(x))
    assert padded.shape[1:3] == (64, 64)
    padded = padded + 100.0 * (1.0 - buckets._inside(padded, tf.constant([37, 45])))
    result = buckets.median(padded, tf.constant([37, 45]), size)[:, :37, :45]
    np.testing.assert_array_equal(result, _numpy_median(x, size))
