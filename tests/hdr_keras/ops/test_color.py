"""Tests of hdr_keras.ops.color: luminance and the hue/saturation jitter."""

from __future__ import annotations

import numpy as np

from hdr_keras.constants import LUMINANCE_WEIGHTS
from hdr_keras.ops.color import adjust_hue_saturation, luminance


def _image(seed=0, shape=(16, 12, 3), low=0.0, high=1.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, shape).astype("float32")


def test_luminance_weights():
    rgb = _image()
    expected = rgb @ np.asarray(LUMINANCE_WEIGHTS, "float32")
    np.testing.assert_allclose(np.asarray(luminance(rgb))[..., 0], expected, rtol=1e-6)
    assert luminance(rgb).shape == (16, 12, 1)
    assert luminance(rgb, keepdims=False).shape == (16, 12)
    np.testing.assert_allclose(np.asarray(luminance([1.0, 1.0, 1.0])), [1.0], 1e-6)


def test_zero_shift_is_identity():
    rgb = _image()
    out = np.asarray(adjust_hue_saturation(rgb, 0.0, 0.0))
    np.testing.assert_allclose(out, rgb, atol=1e-5)
    hdr = np.exp(3 * np.random.default_rng(1).standard_normal((8, 8, 3)))
    hdr = hdr.astype("float32")
    out = np.asarray(adjust_hue_saturation(hdr, 0.0, 0.0))
    np.testing.assert_allclose(out, hdr, rtol=1e-5, atol=1e-5)


def test_full_turn_is_identity_and_turns_compose():
    rgb = _image(low=0.2, high=0.8)
    np.testing.assert_allclose(
        np.asarray(adjust_hue_saturation(rgb, 360.0, 0.0)), rgb, atol=1e-5
    )
    once = adjust_hue_saturation(rgb, 30.0, 0.0)
    twice = adjust_hue_saturation(adjust_hue_saturation(rgb, 10.0, 0.0), 20.0, 0.0)
    np.testing.assert_allclose(np.asarray(once), np.asarray(twice), atol=1e-5)


def test_hue_rotation_preserves_luminance():
    # Mild colours stay inside the gamut: luminance is preserved exactly.
    rgb = _image(low=0.3, high=0.7)
    out = adjust_hue_saturation(rgb, 7.0, 0.0)
    assert not np.allclose(np.asarray(out), rgb, atol=1e-3)
    np.testing.assert_allclose(
        np.asarray(luminance(out)), np.asarray(luminance(rgb)), atol=1e-5
    )
    # Arbitrary HDR colours: approximately (negative results are clamped to 0).
    hdr = np.exp(np.random.default_rng(2).standard_normal((32, 32, 3)))
    hdr = hdr.astype("float32")
    out = np.asarray(adjust_hue_saturation(hdr, 7.0, 0.1))
    ratio = np.asarray(luminance(out)) / np.asarray(luminance(hdr))
    assert np.median(np.abs(ratio - 1.0)) < 1e-4
    assert np.max(np.abs(ratio - 1.0)) < 0.1
    assert out.min() >= 0.0


def test_saturation():
    rgb = _image(low=0.2, high=0.8)
    grey = np.asarray(adjust_hue_saturation(rgb, 0.0, -1.0))
    np.testing.assert_allclose(
        grey, np.repeat(np.asarray(luminance(rgb)), 3, -1), atol=1e-5
    )
    more = np.asarray(adjust_hue_saturation(rgb, 0.0, 0.1))
    y = np.asarray(luminance(rgb))
    # Chroma (distance to grey) grows by 10 % where nothing clamps.
    np.testing.assert_allclose(more - y, 1.1 * (rgb - y), atol=1e-5)


def test_batched_parameters_and_no_upper_clip():
    rgb = np.stack([_image(0, low=1.0, high=50.0), _image(1, low=1.0, high=50.0)])
    out = np.asarray(adjust_hue_saturation(rgb, [0.0, 10.0], [0.0, 0.0]))
    assert out.shape == rgb.shape
    assert out.max() > 1.0
    np.testing.assert_allclose(out[0], rgb[0], rtol=1e-5)
    single = np.asarray(adjust_hue_saturation(rgb[1], 10.0, 0.0))
    np.testing.assert_allclose(out[1], single, rtol=1e-5)
