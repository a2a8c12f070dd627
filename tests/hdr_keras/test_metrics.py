"""Tests of hdr_keras.metrics on known values and against a numpy SSIM."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from hdr_keras.constants import MU, PSNR_CAP_DB
from hdr_keras.metrics import (
    PSNRL,
    SSIML,
    PSNRMu,
    SSIMMu,
    psnr,
    psnr_l,
    psnr_mu,
    ssim_l,
    ssim_mu,
)


def _images(shape=(3, 32, 32, 3), seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return (scale * rng.uniform(0.0, 1.0, shape)).astype("float32")


def _mu_np(x, mu=MU):
    return np.log1p(mu * np.clip(x, 0.0, 1.0)) / math.log1p(mu)


def _gaussian_window(size=11, sigma=1.5):
    coords = np.arange(size, dtype="float64") - (size - 1) / 2.0
    g = np.exp(-(coords**2) / (2.0 * sigma**2))
    window = np.outer(g, g)
    return window / window.sum()


def _filter_valid(x, window):
    size = window.shape[0]
    h, w = x.shape[0] - size + 1, x.shape[1] - size + 1
    out = np.zeros((h, w))
    for i in range(size):
        for j in range(size):
            out += window[i, j] * x[i : i + h, j : j + w]
    return out


def _ssim_np(a, b, max_val=1.0, k1=0.01, k2=0.03):
    """Wang et al. 2004 SSIM of one [H, W, C] image pair, mean over channels."""
    window = _gaussian_window()
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    values = []
    for c in range(a.shape[-1]):
        x, y = a[..., c].astype("float64"), b[..., c].astype("float64")
        mx, my = _filter_valid(x, window), _filter_valid(y, window)
        vx = _filter_valid(x * x, window) - mx**2
        vy = _filter_valid(y * y, window) - my**2
        cov = _filter_valid(x * y, window) - mx * my
        ssim_map = ((2 * mx * my + c1) * (2 * cov + c2)) / (
            (mx**2 + my**2 + c1) * (vx + vy + c2)
        )
        values.append(ssim_map.mean())
    return float(np.mean(values))


def test_psnr_l_of_constant_offset_is_20db():
    y_true = _images(scale=0.8)
    values = np.asarray(psnr_l(y_true, y_true + 0.1))
    assert values.shape == (3,)
    np.testing.assert_allclose(values, 20.0, atol=1e-4)
    np.testing.assert_allclose(
        np.asarray(psnr(y_true, y_true + 0.1, 2.0)), 20 + 20 * math.log10(2), atol=1e-4
    )


def test_psnr_unbatched_and_cap():
    y = _images()[0]
    assert np.asarray(psnr_l(y, y + 0.1)).shape == ()
    assert float(psnr_l(y, y)) == PSNR_CAP_DB
    assert float(psnr_mu(y, y)) == PSNR_CAP_DB
    values = np.asarray(psnr_l(_images(), _images()))
    np.testing.assert_array_equal(values, PSNR_CAP_DB)


def test_psnr_mu_matches_numpy():
    y_true = _images((2, 4, 5, 3), seed=1)
    y_pred = _images((2, 4, 5, 3), seed=2, scale=1.2)  # partly above 1: clipped
    diff = _mu_np(y_true) - _mu_np(y_pred)
    expected = 10 * np.log10(1.0 / np.mean(diff**2, axis=(1, 2, 3)))
    np.testing.assert_allclose(np.asarray(psnr_mu(y_true, y_pred)), expected, rtol=1e-5)
    expected = 10 * np.log10(1.0 / np.mean((y_true - y_pred) ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(np.asarray(psnr_l(y_true, y_pred)), expected, rtol=1e-5)


def test_ssim_identical_is_one():
    y = _images()
    np.testing.assert_allclose(np.asarray(ssim_l(y, y)), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(ssim_mu(y, y)), 1.0, atol=1e-6)
    assert np.asarray(ssim_l(y[0], y[0])).shape == ()


def test_ssim_of_different_images_below_one():
    y = _images()
    noisy = y + 0.1 * np.random.default_rng(5).standard_normal(y.shape)
    assert np.all(np.asarray(ssim_l(y, noisy)) < 0.99)
    assert np.all(np.asarray(ssim_l(y, 1.0 - y)) < 0.0)
    assert np.all(np.asarray(ssim_mu(y, np.clip(noisy, 0, 1))) < 0.99)


def test_ssim_matches_numpy_reference():
    y_true = _images((2, 32, 32, 3), seed=3)
    smooth = np.cumsum(np.cumsum(y_true, axis=1), axis=2)
    smooth = (smooth / smooth.max(axis=(1, 2, 3), keepdims=True)).astype("float32")
    y_pred = np.clip(smooth + 0.05 * _images((2, 32, 32, 3), seed=4), 0, 1)
    for pair in ((y_true, y_pred), (smooth, y_pred)):
        expected = [_ssim_np(a, b) for a, b in zip(*pair)]
        np.testing.assert_allclose(np.asarray(ssim_l(*pair)), expected, atol=1e-4)
        expected_mu = [_ssim_np(_mu_np(a), _mu_np(b)) for a, b in zip(*pair)]
        np.testing.assert_allclose(np.asarray(ssim_mu(*pair)), expected_mu, atol=1e-4)
    # max_val and clip of SSIM-L
    expected = [_ssim_np(a, b, max_val=2.0) for a, b in zip(y_true, y_pred)]
    np.testing.assert_allclose(
        np.asarray(ssim_l(y_true, y_pred, 2.0)), expected, atol=1e-4
    )
    over = 1.5 * y_pred
    clipped = [_ssim_np(a, b) for a, b in zip(y_true, np.clip(over, 0, 1))]
    np.testing.assert_allclose(
        np.asarray(ssim_l(y_true, over, clip=True)), clipped, atol=1e-4
    )


METRICS = [
    (PSNRMu, psnr_mu, {"mu": 100.0}),
    (PSNRL, psnr_l, {"max_val": 2.0}),
    (SSIMMu, ssim_mu, {"mu": 100.0}),
    (SSIML, ssim_l, {"max_val": 2.0}),
]


@pytest.mark.parametrize("cls,fn,kwargs", METRICS)
def test_metric_accumulates_per_image_mean(cls, fn, kwargs):
    first = (_images((2, 16, 16, 3), seed=1), _images((2, 16, 16, 3), seed=2))
    second = (_images((3, 16, 16, 3), seed=3), _images((3, 16, 16, 3), seed=4))
    metric = cls(**kwargs)
    metric.update_state(*first)
    metric.update_state(*second)
    values = np.concatenate(
        [np.asarray(fn(*first, **kwargs)), np.asarray(fn(*second, **kwargs))]
    )
    np.testing.assert_allclose(float(metric.result()), values.mean(), rtol=1e-5)
    metric.reset_state()
    metric.update_state(*first)
    np.testing.assert_allclose(float(metric.result()), values[:2].mean(), rtol=1e-5)


@pytest.mark.parametrize("cls,fn,kwargs", METRICS)
def test_metric_config_round_trip(cls, fn, kwargs):
    metric = cls(name="custom", **kwargs)
    config = metric.get_config()
    restored = cls.from_config(config)
    assert restored.get_config() == config
    assert restored.name == "custom"
    for key, value in kwargs.items():
        assert config[key] == value
    serialized = keras.saving.serialize_keras_object(metric)
    assert serialized["registered_name"] == f"hdr_keras>{cls.__name__}"
    again = keras.saving.deserialize_keras_object(serialized)
    assert type(again) is cls and again.get_config() == config
    assert cls().name in {"psnr_mu", "psnr_l", "ssim_mu", "ssim_l"}


def test_metrics_in_compiled_model():
    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    model.compile(loss="mse", metrics=[PSNRMu(), PSNRL(), SSIMMu(), SSIML()])
    x = _images((4, 16, 16, 3))
    result = model.evaluate(x, x + 0.1, batch_size=2, verbose=0, return_dict=True)
    np.testing.assert_allclose(result["psnr_l"], 20.0, atol=1e-3)
    assert result["ssim_l"] < 1.0 and result["psnr_mu"] > 0.0
