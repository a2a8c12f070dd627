"""Tests of hdr_keras.ops.camera: curves, exposure, quantisation, JPEG, virtual camera."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.constants import GAMMA
from hdr_keras.ops.camera import (
    CURVE_GAMMA,
    CURVE_SIGMOID,
    VirtualCameraConfig,
    apply_camera_curve,
    curve_gamma,
    curve_sigmoid,
    exposure_for_percentile,
    inverse_camera_curve,
    inverse_curve_gamma,
    inverse_curve_sigmoid,
    jpeg,
    quantize,
    sample_camera_params,
    virtual_camera,
)

GRID = np.linspace(0.0, 1.0, 2001, dtype="float32")


def _lognormal(shape=(64, 48, 3), seed=0):
    rng = np.random.default_rng(seed)
    return np.exp(3.0 * rng.standard_normal(shape)).astype("float32")


def _seed(a, b=0):
    return tf.constant([a, b], tf.int64)


@pytest.mark.parametrize("n,a", [(0.2, 0.6), (0.9, 0.6), (2.5, 0.3), (1.3, 5.0)])
def test_sigmoid_curve_round_trip(n, a):
    z = curve_sigmoid(GRID, n, a)
    assert abs(float(curve_sigmoid(1.0, n, a)) - 1.0) < 1e-6
    assert float(curve_sigmoid(0.0, n, a)) == 0.0
    assert np.all(np.diff(np.asarray(z)) >= 0)
    back = np.asarray(inverse_curve_sigmoid(z, n, a))
    assert np.max(np.abs(back - GRID)) < 1e-4
    back = np.asarray(curve_sigmoid(inverse_curve_sigmoid(GRID, n, a), n, a))
    assert np.max(np.abs(back - GRID)) < 1e-4


def test_sigmoid_curve_formula():
    h, n, a = 0.3, 0.9, 0.6
    expected = (1 + a) * h**n / (h**n + a)
    np.testing.assert_allclose(float(curve_sigmoid(h, n, a)), expected, rtol=1e-6)


@pytest.mark.parametrize("gamma", [GAMMA, 1.8])
def test_gamma_curve_round_trip(gamma):
    np.testing.assert_allclose(
        np.asarray(curve_gamma(GRID, gamma)), GRID ** (1 / gamma), rtol=1e-5
    )
    back = np.asarray(inverse_curve_gamma(curve_gamma(GRID, gamma), gamma))
    assert np.max(np.abs(back - GRID)) < 1e-4


def test_camera_curve_selects_per_image():
    h = np.stack([GRID.reshape(1, -1, 1)] * 2)  # [2, 1, 2001, 1]
    kind = tf.constant([CURVE_SIGMOID, CURVE_GAMMA])
    n = tf.constant([0.9, float("nan")])
    a = tf.constant([0.6, float("nan")])
    z = np.asarray(apply_camera_curve(h, kind, n, a))
    np.testing.assert_allclose(z[0], np.asarray(curve_sigmoid(h[0], 0.9, 0.6)))
    np.testing.assert_allclose(z[1], np.asarray(curve_gamma(h[1])))
    back = np.asarray(inverse_camera_curve(z, kind, n, a))
    assert np.max(np.abs(back - h)) < 1e-4


def test_exposure_for_percentile():
    hdr = _lognormal()
    for p in (0.5, 0.85, 0.95):
        s = float(exposure_for_percentile(hdr, p))
        values = np.sort(hdr.max(-1).ravel())
        k = int(np.floor(p * values.size))
        np.testing.assert_allclose(s * values[k], 1.0, rtol=1e-6)
    batch = np.stack([hdr, 2.0 * hdr])
    s = np.asarray(exposure_for_percentile(batch, [0.9, 0.9]))
    np.testing.assert_allclose(s[0], 2.0 * s[1], rtol=1e-6)
    assert float(exposure_for_percentile(np.zeros((4, 4, 3), "float32"), 0.9)) == 1.0


def test_quantize_grid():
    x = np.array([-0.2, 0.0, 0.1, 0.5, 0.999, 1.3], "float32")
    q = np.asarray(quantize(x))
    np.testing.assert_allclose(q * 255.0, np.round(q * 255.0), atol=1e-4)
    np.testing.assert_allclose(q, [0.0, 0.0, 26 / 255, 128 / 255, 1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(np.asarray(quantize([0.4, 0.6], bits=1)), [0.0, 1.0])


def test_jpeg_changes_image_keeps_range():
    rng = np.random.default_rng(3)
    x = rng.uniform(0.0, 1.0, (24, 40, 3)).astype("float32")
    y = np.asarray(jpeg(x, tf.constant(30)))
    assert y.shape == x.shape and y.dtype == np.float32
    assert 0.0 <= y.min() and y.max() <= 1.0
    assert np.abs(y - x).mean() > 0.01
    np.testing.assert_allclose(y * 255.0, np.round(y * 255.0), atol=1e-4)
    batch = np.asarray(jpeg(np.stack([x, x]), [30, 95]))
    np.testing.assert_allclose(batch[0], y, atol=1e-6)
    assert np.abs(batch[1] - x).mean() < np.abs(batch[0] - x).mean()


def test_config_defaults_and_validation():
    config = VirtualCameraConfig()
    assert config.percentile_range == (0.85, 0.95)
    assert config.curve_n_range == (0.2, 2.5) and config.curve_a_range == (0.0, 5.0)
    assert config.noise_sigma_range == (0.0, 0.01)
    assert config.jpeg_quality_range == (30, 100) and not config.jpeg
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.jpeg = True
    with pytest.raises(ValueError):
        VirtualCameraConfig(curve="linear")
    with pytest.raises(ValueError):
        VirtualCameraConfig(percentile_range=(0.95, 0.85))


def test_sampled_parameter_ranges():
    config = VirtualCameraConfig(curve="random", jpeg=True)
    p = sample_camera_params(_seed(1), config, batch_shape=[2000])
    kind = np.asarray(p.curve_kind)
    assert set(np.unique(kind)) == {CURVE_SIGMOID, CURVE_GAMMA}
    n = np.asarray(p.curve_n)[kind == CURVE_SIGMOID]
    a = np.asarray(p.curve_a)[kind == CURVE_SIGMOID]
    assert np.all(np.isnan(np.asarray(p.curve_n)[kind == CURVE_GAMMA]))
    assert 0.2 <= n.min() and n.max() <= 2.5 and abs(n.mean() - 0.9) < 0.02
    assert 0.0 <= a.min() and a.max() <= 5.0 and abs(a.mean() - 0.6) < 0.02
    pct = np.asarray(p.percentile)
    assert 0.85 <= pct.min() and pct.max() <= 0.95
    sigma = np.asarray(p.noise_sigma)
    assert 0.0 <= sigma.min() and sigma.max() <= 0.01
    quality = np.asarray(p.jpeg_quality)
    assert quality.min() == 30 and quality.max() == 100
    assert abs(np.asarray(p.hue_shift).std() - 7.0) < 0.5
    assert abs(np.asarray(p.saturation_shift).std() - 0.1) < 0.01


def test_virtual_camera_outputs_and_clipped_fraction():
    hdr = _lognormal()
    fractions = []
    for i in range(30):
        out = virtual_camera(hdr, _seed(i))
        ldr = np.asarray(out["ldr"])
        assert ldr.shape == hdr.shape and ldr.dtype == np.float32
        assert 0.0 <= ldr.min() and ldr.max() <= 1.0
        np.testing.assert_allclose(ldr * 255.0, np.round(ldr * 255.0), atol=1e-3)
        mask = np.asarray(out["saturation_mask"])
        assert mask.shape == hdr.shape[:2] + (1,)
        exposed = np.asarray(out["hdr"])
        np.testing.assert_array_equal(mask[..., 0], exposed.max(-1) >= 1.0)
        assert exposed.max() > 1.0  # the target is not clipped
        fraction = mask.mean()
        percentile = float(out["percentile"])
        assert 0.85 <= percentile <= 0.95
        assert abs(fraction - (1.0 - percentile)) < 0.01
        fractions.append(fraction)
        n, a = float(out["curve_n"]), float(out["curve_a"])
        assert int(out["curve_kind"]) == CURVE_SIGMOID
        assert 0.2 <= n <= 2.5 and 0.0 <= a <= 5.0
        assert 0.0 <= float(out["noise_sigma"]) <= 0.01
        assert int(out["jpeg_quality"]) == 0
        # ldr ~ f(clip(hdr)) up to noise (sigma <= 0.01) and quantisation.
        expected = np.asarray(curve_sigmoid(np.clip(exposed, 0.0, 1.0), n, a))
        assert np.abs(ldr - expected).mean() < 0.012
        # exposure is the scale from the (colour-jittered) input to "hdr".
        ratio = exposed.sum() / np.asarray(out["exposure"] * hdr.sum())
        assert 0.8 < ratio < 1.25
    fractions = np.asarray(fractions)
    assert 0.05 - 1e-3 <= fractions.min() and fractions.max() <= 0.15 + 1e-3
    assert fractions.std() > 0.01  # the percentile really varies


def test_virtual_camera_determinism():
    hdr = _lognormal()
    config = VirtualCameraConfig(curve="random")
    first = virtual_camera(hdr, _seed(5, 9), config)
    again = virtual_camera(hdr, tf.constant([5, 9], tf.int32), config)
    for key in first:
        np.testing.assert_array_equal(np.asarray(first[key]), np.asarray(again[key]))
    other = virtual_camera(hdr, _seed(6, 9), config)
    assert not np.array_equal(np.asarray(first["ldr"]), np.asarray(other["ldr"]))
    assert float(first["percentile"]) != float(other["percentile"])


def test_virtual_camera_gamma_curve_and_no_quantisation():
    config = VirtualCameraConfig(curve="gamma", quantize=False)
    out = virtual_camera(_lognormal(), _seed(2), config)
    assert int(out["curve_kind"]) == CURVE_GAMMA
    assert np.isnan(float(out["curve_n"])) and np.isnan(float(out["curve_a"]))
    ldr = np.asarray(out["ldr"])
    assert not np.allclose(ldr * 255.0, np.round(ldr * 255.0), atol=1e-3)
    expected = np.clip(np.asarray(out["hdr"]), 0, 1) ** (1 / GAMMA)
    assert np.abs(ldr - expected).mean() < 0.012


def test_virtual_camera_jpeg_option():
    hdr = _lognormal()
    plain = virtual_camera(hdr, _seed(4))
    coded = virtual_camera(hdr, _seed(4), VirtualCameraConfig(jpeg=True))
    quality = int(coded["jpeg_quality"])
    assert 30 <= quality <= 100
    ldr = np.asarray(coded["ldr"])
    assert 0.0 <= ldr.min() and ldr.max() <= 1.0
    assert not np.array_equal(ldr, np.asarray(plain["ldr"]))
    np.testing.assert_array_equal(np.asarray(coded["hdr"]), np.asarray(plain["hdr"]))


def test_virtual_camera_batch():
    batch = np.stack([_lognormal(seed=0), _lognormal(seed=1)])
    out = virtual_camera(batch, _seed(8), VirtualCameraConfig(jpeg=True))
    assert out["ldr"].shape == batch.shape
    assert out["saturation_mask"].shape == batch.shape[:3] + (1,)
    assert out["percentile"].shape == (2,) and out["exposure"].shape == (2,)
    fraction = np.asarray(out["saturation_mask"]).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(fraction, 1.0 - np.asarray(out["percentile"]), atol=0.01)


def test_virtual_camera_in_tf_data_with_dynamic_shapes():
    images = [_lognormal((40, 56, 3), seed=0), _lognormal((33, 27, 3), seed=1)]
    dataset = tf.data.Dataset.from_generator(
        lambda: iter(images),
        output_signature=tf.TensorSpec([None, None, 3], tf.float32),
    )
    config = VirtualCameraConfig(curve="random", jpeg=True)

    def camera(index, image):
        return virtual_camera(
            image, tf.stack([index, tf.constant(17, tf.int64)]), config
        )

    results = list(dataset.enumerate().map(camera).as_numpy_iterator())
    assert [r["ldr"].shape for r in results] == [(40, 56, 3), (33, 27, 3)]
    for i, (image, result) in enumerate(zip(images, results)):
        assert 0.0 <= result["ldr"].min() and result["ldr"].max() <= 1.0
        eager = virtual_camera(image, _seed(i, 17), config)
        for key in ("ldr", "hdr", "saturation_mask", "percentile", "jpeg_quality"):
            np.testing.assert_allclose(result[key], np.asarray(eager[key]), atol=1e-6)
