"""Structured initialisers: bilinear upsampling and additive fusion."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hdr_keras.layers.initializers import AdditiveFusion, BilinearUpsampling


def test_bilinear_deconvolution_upsamples_bilinearly():
    layer = keras.layers.Conv2DTranspose(
        4, 4, strides=2, padding="same", kernel_initializer=BilinearUpsampling()
    )
    x = np.random.default_rng(1).uniform(size=(1, 6, 7, 4)).astype("float32")
    y = np.asarray(layer(x))
    assert y.shape == (1, 12, 14, 4)
    # Interior pixels equal bilinear interpolation with half-pixel centres.
    expected = np.asarray(keras.ops.image.resize(x, (12, 14), interpolation="bilinear"))
    np.testing.assert_allclose(y[:, 2:-2, 2:-2], expected[:, 2:-2, 2:-2], atol=1e-5)


def test_bilinear_channel_mismatch_maps_diagonal_only():
    kernel = np.asarray(BilinearUpsampling()((4, 4, 2, 3)))
    assert kernel[:, :, 0, 0].sum() == pytest.approx(4.0)
    assert np.all(kernel[:, :, :, 2] == 0)


def test_additive_fusion_adds():
    a = np.random.default_rng(2).normal(size=(1, 5, 5, 3)).astype("float32")
    b = np.random.default_rng(3).normal(size=(1, 5, 5, 3)).astype("float32")
    layer = keras.layers.Conv2D(3, 1, kernel_initializer=AdditiveFusion())
    np.testing.assert_allclose(layer(np.concatenate([a, b], -1)), a + b, atol=1e-6)


def test_additive_fusion_rejects_wrong_shape():
    with pytest.raises(ValueError, match="1x1 kernel from 2C to C"):
        AdditiveFusion()((3, 3, 6, 3))


def test_initializer_configs_round_trip():
    for init in (BilinearUpsampling(), AdditiveFusion()):
        restored = keras.initializers.deserialize(keras.initializers.serialize(init))
        assert type(restored) is type(init)
