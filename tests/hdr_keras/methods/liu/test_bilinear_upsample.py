"""BilinearUpsample2x: TF1 resize_bilinear sampling (SingleHDR's U-Nets)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.methods.liu.bilinear_upsample import BilinearUpsample2x


def test_legacy_sampling_copies_even_pixels_and_averages_odd_ones():
    row = np.array([0.0, 2.0, 6.0], "float32").reshape(1, 1, 3, 1)
    out = np.asarray(BilinearUpsample2x()(np.repeat(row, 2, axis=1)))
    assert out.shape == (1, 2 * 2, 2 * 3, 1)
    np.testing.assert_allclose(out[0, 0, :, 0], [0, 1, 2, 4, 6, 6])


def test_half_pixel_option_equals_tf_image_resize(tmp_path):
    image = np.random.default_rng(0).uniform(0, 1, (1, 5, 7, 2)).astype("float32")
    layer = BilinearUpsample2x(half_pixel_centers=True)
    np.testing.assert_allclose(
        layer(image), tf.image.resize(image, (10, 14), "bilinear"), atol=1e-6
    )
    inputs = keras.Input((None, None, 2))
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.layers[-1].half_pixel_centers
    np.testing.assert_allclose(loaded(image), model(image), atol=1e-6)
