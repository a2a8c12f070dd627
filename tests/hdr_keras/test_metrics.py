"""Tests of hdr_keras.metrics on known values and against a numpy SSIM."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from hdr_keras.constants import LUMINANCE_WEIGHTS, MU, PSNR_CAP_DB
from hdr_keras.metrics import (
    PSNRL,
    PU21PSNR,
    PU21SSIM,
    SSIML,
    PSNRMu,
    SSIMMu,
    align_exposure,
    psnr,
    psnr_l,
    psnr_mu,
    pu21_psnr,
    pu21_ssim,
    ssim_l,
    ssim_mu,
)
from hdr_keras.pu21 import pu21_encode

U = float(np.finfo(np.float32).eps) / 2  # float32 unit roundoff, 6e-8
DB_PER_RELATIVE_ERROR = 10 / math.log(10)  # 10 log10(x (1 + e)) - 10 log10(x) <= 4.34 e


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


def _ssim_rounding(a, b, max_val=1.0, k2=0.03, lam=6.0):
    """Float32 rounding error of TF's SSIM of the images a, b [B, H, W, C] (largest
    over the batch), for comparisons with the float64 `_ssim_np`.

    The window sums of n = 121 taps err by at most n U times the sum of their terms,
    and SSIM's variances E[x^2] - mu^2 cancel, so one SSIM-map value errs by up to
    n U b, b = (E[x^2] + E[y^2] + mu_x^2 + mu_y^2) / (var_x + var_y + C2): that worst
    case reaches 1e-2 on smooth images. With rounding errors modelled as independent
    (Higham & Mary, SIAM J. Sci. Comput. 41(5), 2019), a sum of n terms errs by
    lam sqrt(n) U with probability >= 1 - 2 exp(-lam^2 / 2) (2e-8 for lam = 6), and
    the mean over the P values of the map by lam sqrt(n / P) U rms(b).
    """
    window = _gaussian_window()
    c2 = (k2 * max_val) ** 2
    bounds = []
    for x_image, y_image in zip(np.asarray(a, "float64"), np.asarray(b, "float64")):
        b_map = []
        for c in range(x_image.shape[-1]):
            x, y = x_image[..., c], y_image[..., c]
            mx, my = _filter_valid(x, window), _filter_valid(y, window)
            sx, sy = _filter_valid(x * x, window), _filter_valid(y * y, window)
            b_map.append((sx + sy + mx**2 + my**2) / (sx - mx**2 + sy - my**2 + c2))
        b_map = np.stack(b_map)
        rms = math.sqrt(np.mean(b_map**2))
        bounds.append(lam * U * math.sqrt(window.size / b_map.size) * rms)
    return max(bounds)


def test_psnr_l_of_constant_offset_is_20db():
    y_true = _images(scale=0.8)
    values = np.asarray(psnr_l(y_true, y_true + 0.1))
    assert values.shape == (3,)
    # The mean of n = 3072 float32 squares errs by at most n U relative in any
    # summation order (a plain sequential sum gets 0.1 n U here: 0.9e-4 dB), so
    # 10 / ln(10) n U = 8e-4 dB; a wrong formula (RMSE, max_val vs max_val^2) is off
    # by >= 3 dB.
    atol = DB_PER_RELATIVE_ERROR * y_true[0].size * U
    np.testing.assert_allclose(values, 20.0, atol=atol)
    np.testing.assert_allclose(
        np.asarray(psnr(y_true, y_true + 0.1, 2.0)), 20 + 20 * math.log10(2), atol=atol
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
    # Tolerance: the float32 rounding of each pair's SSIM (`_ssim_rounding`): 1e-6
    # to 1e-5 for SSIM-L, 3e-5 (random) and 2e-4 (smooth) for SSIM-mu, where the
    # measured errors are 7 to 50 times smaller (oneDNN on and off, AVX2 and
    # AVX-512, 1 to 8 threads). A wrong window (size 9, sigma 1.4) or constant
    # (k2 = 0.031) moves these values by 1.3e-4 to 7e-3: still a failure.
    for pair in ((y_true, y_pred), (smooth, y_pred)):
        expected = [_ssim_np(a, b) for a, b in zip(*pair)]
        np.testing.assert_allclose(
            np.asarray(ssim_l(*pair)), expected, atol=_ssim_rounding(*pair)
        )
        expected_mu = [_ssim_np(_mu_np(a), _mu_np(b)) for a, b in zip(*pair)]
        np.testing.assert_allclose(
            np.asarray(ssim_mu(*pair)),
            expected_mu,
            atol=_ssim_rounding(_mu_np(pair[0]), _mu_np(pair[1])),
        )
    # max_val and clip of SSIM-L
    expected = [_ssim_np(a, b, max_val=2.0) for a, b in zip(y_true, y_pred)]
    np.testing.assert_allclose(
        np.asarray(ssim_l(y_true, y_pred, 2.0)),
        expected,
        atol=_ssim_rounding(y_true, y_pred, 2.0),
    )
    over = 1.5 * y_pred
    clipped = [_ssim_np(a, b) for a, b in zip(y_true, np.clip(over, 0, 1))]
    np.testing.assert_allclose(
        np.asarray(ssim_l(y_true, over, clip=True)),
        clipped,
        atol=_ssim_rounding(y_true, np.clip(over, 0, 1)),
    )


def test_separable_ssim_equals_tf_image_ssim():
    """`ssim` (separable window) gives tf.image.ssim's values (2-D window)."""
    import tensorflow as tf

    from hdr_keras.metrics import ssim

    y_true = _images((2, 48, 40, 3), seed=5)
    smooth = np.cumsum(np.cumsum(y_true, axis=1), axis=2)
    smooth = (smooth / smooth.max(axis=(1, 2, 3), keepdims=True)).astype("float32")
    y_pred = np.clip(smooth + 0.05 * _images((2, 48, 40, 3), seed=6), 0, 1)
    for pair, max_val in (((y_true, y_pred), 1.0), ((smooth, y_pred), 2.0)):
        reference = tf.image.ssim(*pair, max_val, 11, 1.5, 0.01, 0.03).numpy()
        # Both are within `_ssim_rounding` of the exact (float64) SSIM (the
        # separable sums have 11 + 11 taps instead of 121, so their rounding is
        # covered by the same bound), hence within twice it of each other.
        np.testing.assert_allclose(
            np.asarray(ssim(*pair, max_val)),
            reference,
            atol=2 * _ssim_rounding(*pair, max_val),
        )
    # Leading dimensions as tf.image.ssim: [H, W, C] -> scalar, [A, B, ...] -> [A, B]
    assert np.asarray(ssim(y_true[0], y_pred[0])).shape == ()
    stacked = ssim(np.stack([y_true, y_pred]), np.stack([y_pred, y_true]))
    assert np.asarray(stacked).shape == (2, 2)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(y_true[:, :10], y_pred[:, :10])
    with pytest.raises(ValueError, match="shapes differ"):
        ssim(y_true, y_pred[:, :20])


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


# ------------------------------------------------------------------ PU21 metrics
def _absolute(shape=(2, 24, 24, 3), seed=0):
    """Absolute linear RGB in cd/m^2 spanning 0.01 to 4000 (log-uniform)."""
    rng = np.random.default_rng(seed)
    return (10.0 ** rng.uniform(-2.0, np.log10(4000.0), shape)).astype("float32")


def _pu21_np(luminance):
    return np.asarray(pu21_encode(luminance), dtype="float64")


def test_pu21_psnr_of_identical_images_is_the_cap():
    y = _absolute()
    np.testing.assert_array_equal(np.asarray(pu21_psnr(y, y)), PSNR_CAP_DB)
    np.testing.assert_allclose(np.asarray(pu21_ssim(y, y)), 1.0, atol=1e-6)


def test_pu21_psnr_matches_numpy():
    y_true, y_pred = _absolute(seed=1), _absolute(seed=2)
    diff = _pu21_np(y_true) - _pu21_np(y_pred)
    expected = 10 * np.log10(256.0**2 / np.mean(diff**2, axis=(1, 2, 3)))
    # The values are near 0.8 dB, so a relative tolerance says nothing about the
    # rounding: the float32 MSE of n = 1728 values errs by at most (n + 2) U
    # relative (sum; difference and square), 10 / ln(10) (n + 2) U = 4.5e-4 dB. A
    # peak of 255 instead of 256 is off by 0.034 dB.
    atol = DB_PER_RELATIVE_ERROR * (y_true[0].size + 2) * U
    np.testing.assert_allclose(
        np.asarray(pu21_psnr(y_true, y_pred)), expected, rtol=0, atol=atol
    )
    # below 0.005 cd/m^2 everything is black: darker errors do not count
    dark = np.full((1, 16, 16, 3), 1e-3, "float32")
    assert float(pu21_psnr(dark, dark * 0.5)[0]) == PSNR_CAP_DB


def test_pu21_ssim_is_ssim_of_encoded_luminance():
    y_true = _absolute((2, 32, 32, 3), seed=3)
    y_pred = y_true * np.random.default_rng(4).uniform(0.7, 1.3, y_true.shape)
    weights = np.asarray(LUMINANCE_WEIGHTS)
    expected = [
        _ssim_np(
            _pu21_np(a @ weights)[..., None], _pu21_np(b @ weights)[..., None], 256.0
        )
        for a, b in zip(y_true, y_pred.astype("float32"))
    ]
    values = np.asarray(pu21_ssim(y_true, y_pred))
    np.testing.assert_allclose(values, expected, atol=1e-4)
    assert np.all(values < 0.999)


def test_pu21_keras_metrics():
    y_true, y_pred = _absolute(seed=5), _absolute(seed=6)
    for cls, fn in ((PU21PSNR, pu21_psnr), (PU21SSIM, pu21_ssim)):
        metric = cls(variant="peaks")
        metric.update_state(y_true, y_pred)
        expected = np.asarray(fn(y_true, y_pred, "peaks")).mean()
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)
        assert float(metric.result()) != pytest.approx(
            float(np.asarray(fn(y_true, y_pred)).mean())
        )
        config = metric.get_config()
        assert config["variant"] == "peaks"
        again = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        assert type(again) is cls and again.get_config() == config
    assert PU21PSNR().name == "pu21_psnr" and PU21SSIM().name == "pu21_ssim"


# ------------------------------------------------------------- exposure alignment
# The fitted scale comes from float32 sums over the n valid pixels of an image: in
# "log" mode a sum of n log ratios (|log s| < 2 here, so <= 2 n U) plus the rounding
# of each pixel's luminances and logs (|log Y| < 7) and of the final exp (< 32 U in
# all), in "linear" mode two sums of n products (<= (2 n + 6) U). So the scale errs
# by at most (2 n + 32) U relative, 3.3e-5 for 16 x 16 images, in any summation
# order (a plain sequential sum of the log ratios gets 5e-6 at s = 7). A fit that
# ignores the mask or uses the wrong pixels is off by more than 0.1 %.
ALIGN_RTOL = (2 * 16 * 16 + 32) * U


def test_align_exposure_recovers_a_global_scale():
    reference = _images((2, 16, 16, 3), seed=7) + 0.01
    for mode in ("log", "linear"):
        aligned, scale = align_exposure(
            reference, reference / [[[[7.0]]], [[[0.5]]]], mode=mode
        )
        np.testing.assert_allclose(np.asarray(scale), [7.0, 0.5], rtol=ALIGN_RTOL)
        np.testing.assert_allclose(np.asarray(aligned), reference, rtol=ALIGN_RTOL)
    aligned, scale = align_exposure(reference, reference * 3.0, mode="none")
    np.testing.assert_array_equal(np.asarray(scale), [1.0, 1.0])
    np.testing.assert_allclose(np.asarray(aligned), reference * 3.0)
    _, single = align_exposure(reference[0], reference[0] / 4.0)
    assert np.asarray(single).shape == ()
    np.testing.assert_allclose(float(single), 4.0, rtol=ALIGN_RTOL)


def test_align_exposure_ignores_saturated_input_pixels():
    reference = _images((1, 16, 16, 3), seed=8) + 0.01
    ldr = np.clip(reference * 1.5, 0.0, 1.0)  # about a third is saturated
    saturated = ldr.max(axis=-1, keepdims=True) >= 0.95
    assert 0.1 < saturated.mean() < 0.9
    # right exposure (x2) where the input is valid, a wild guess where it is clipped
    prediction = np.where(saturated, reference * 50.0, reference / 2.0)
    for mode in ("log", "linear"):
        _, scale = align_exposure(reference, prediction, ldr, mode=mode)
        np.testing.assert_allclose(np.asarray(scale), [2.0], rtol=ALIGN_RTOL)
        _, unmasked = align_exposure(reference, prediction, mode=mode)
        assert abs(float(unmasked[0]) - 2.0) > 0.5
    # every pixel saturated: falls back to all valid pixels
    _, scale = align_exposure(reference, reference / 3.0, np.ones_like(ldr))
    np.testing.assert_allclose(np.asarray(scale), [3.0], rtol=ALIGN_RTOL)
    # nothing valid (black prediction): scale 1
    _, scale = align_exposure(reference, np.zeros_like(reference))
    np.testing.assert_array_equal(np.asarray(scale), [1.0])


def test_align_exposure_errors():
    y = _images((1, 8, 8, 3))
    with pytest.raises(ValueError, match="must be one of"):
        align_exposure(y, y, mode="median")
    with pytest.raises(ValueError, match="differ in shape"):
        align_exposure(y, y[:, :4])


def test_ssim_l_matches_skimage():
    metrics_module = pytest.importorskip("skimage.metrics")
    y_true = _images((1, 32, 40, 3), seed=9)
    y_pred = np.clip(y_true + 0.1 * _images((1, 32, 40, 3), seed=10), 0, 1)
    expected = metrics_module.structural_similarity(
        y_true[0],
        y_pred[0],
        data_range=1.0,
        channel_axis=-1,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )
    np.testing.assert_allclose(float(ssim_l(y_true, y_pred)[0]), expected, atol=1e-4)
