"""SobelEdges: per-channel Sobel responses as tf.image.sobel_edges."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.methods.liu.sobel import SobelEdges


def _ramp(height, width, slope_y, slope_x):
    y, x = np.mgrid[0:height, 0:width].astype("float32")
    return slope_y * y + slope_x * x


def test_ramps_give_eight_times_the_slope_inside_and_zero_on_reflected_borders():
    image = np.stack(
        [_ramp(9, 11, 0.05, 0.0), _ramp(9, 11, 0.0, 0.02), _ramp(9, 11, 0.01, -0.03)],
        axis=-1,
    )[None]
    out = np.asarray(SobelEdges()(image))
    assert out.shape == (1, 9, 11, 6)
    inner = out[0, 1:-1, 1:-1]
    expected = [8 * 0.05, 0.0, 0.0, 8 * 0.02, 8 * 0.01, 8 * -0.03]
    for channel, value in enumerate(expected):
        np.testing.assert_allclose(inner[..., channel], value, atol=1e-5)
    # Reflect padding mirrors the ramp: no gradient across the border.
    np.testing.assert_allclose(out[0, 0, 1:-1, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(out[0, -1, 1:-1, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(out[0, 1:-1, 0, 3], 0.0, atol=1e-6)


def test_equals_tf_image_sobel_edges_reshaped_as_the_official_code():
    image = np.random.default_rng(0).uniform(0, 1, (2, 7, 10, 3)).astype("float32")
    reference = tf.reshape(tf.image.sobel_edges(tf.constant(image)), (2, 7, 10, 6))
    np.testing.assert_allclose(SobelEdges()(image), reference, atol=1e-5)


def test_keras_round_trip(tmp_path):
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, SobelEdges()(inputs))
    image = np.random.default_rng(1).uniform(0, 1, (1, 5, 6, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded(image), model(image), atol=1e-6)
