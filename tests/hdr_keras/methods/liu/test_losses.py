"""SingleHDR's loss domain: `log_compress` is the mu-law tonemapper with mu = 10."""

from __future__ import annotations

import math

import keras
import numpy as np

from hdr_keras.methods.liu.constants import LIU_LOG_GAIN
from hdr_keras.methods.liu.losses import log_compress
from hdr_keras.ops.tonemap import mu_law


def test_log_compress_is_mu_law_with_the_gain():
    linear = np.random.default_rng(0).uniform(-0.5, 8.0, (2, 9, 7, 3)).astype("float32")
    compressed = np.asarray(log_compress(linear))
    np.testing.assert_array_equal(compressed, np.asarray(mu_law(linear, LIU_LOG_GAIN)))
    # The expression the loss had before, in the same float32 ops: identical.
    before = keras.ops.log1p(10.0 * keras.ops.maximum(linear, 0.0)) / math.log1p(10.0)
    np.testing.assert_array_equal(compressed, np.asarray(before))
    # The formula the loss was written with: log(1 + 10 max(x, 0)) / log(11), in
    # float64; float32 rounding of log1p and the division bounds the difference
    # by a few ulps of the result (<= log(1 + 10 * 8) / log(11) < 2).
    expected = np.log1p(10.0 * np.maximum(linear.astype(np.float64), 0.0)) / math.log1p(
        10.0
    )
    np.testing.assert_allclose(compressed, expected, rtol=4 * np.finfo(np.float32).eps)
