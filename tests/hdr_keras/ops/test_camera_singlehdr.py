"""SingleHDR's formation model: intermediates, ranges, invariants, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from hdr_keras import constants as C
from hdr_keras.ops import crf
from hdr_keras.ops.camera import quantize
from hdr_keras.ops.camera_singlehdr import SingleHDRCameraConfig, singlehdr_camera
from hdr_keras.synthetic.scenes import generate_scene


@pytest.fixture(scope="module")
def scene():
    return generate_scene(3, 48, 40)


def _shot(scene, seed, **config):
    return singlehdr_camera(
        scene, np.random.default_rng(seed), config=SingleHDRCameraConfig(**config)
    )


def test_intermediates_shapes_and_ranges(scene):
    shot = _shot(scene, 0)
    for key in ("hdr", "linear_clipped", "ldr_unquantized", "ldr"):
        assert shot[key].shape == scene.shape and shot[key].dtype == np.float32, key
    for key in ("linear_clipped", "ldr_unquantized", "ldr"):
        assert 0.0 <= shot[key].min() and shot[key].max() <= 1.0, key
    assert shot["crf"].shape == shot["inverse_crf"].shape == (C.CRF_SAMPLES,)
    assert np.all(np.diff(shot["inverse_crf"]) >= 0)
    # 8 bits: every value is k / 255, stored exactly as such.
    np.testing.assert_array_equal(shot["ldr"], np.round(shot["ldr"] * 255) / 255)
    assert 90 <= shot["jpeg_quality"] <= 100
    assert -3.0 <= shot["stops"] <= 3.0
    assert np.all(shot["shot_noise"] <= C.LIU_SHOT_NOISE_MAX)
    assert np.all(shot["read_noise"] <= C.LIU_READ_NOISE_MAX)


def test_hdr_is_the_normalised_exposed_input(scene):
    shot = _shot(scene, 1)
    np.testing.assert_allclose(shot["hdr"], scene * shot["exposure"], rtol=1e-6)
    # Mean 0.5 before the exposure t = 2 ** stops.
    mean = shot["hdr"].mean(dtype=np.float64) / 2.0 ** shot["stops"]
    assert mean == pytest.approx(C.LIU_HDR_MEAN, rel=1e-4)


def test_without_noise_linear_clipped_is_the_clipped_hdr(scene):
    shot = _shot(scene, 2, shot_noise_max=0.0, read_noise_max=0.0)
    np.testing.assert_array_equal(shot["linear_clipped"], np.clip(shot["hdr"], 0, 1))
    # Shot noise alone (no read noise) changes the clipped linear image.
    noisy = _shot(scene, 2, read_noise_max=0.0)
    residual = noisy["linear_clipped"] - np.clip(noisy["hdr"], 0, 1)
    assert np.abs(residual).max() > 0


def test_ldr_is_the_quantised_curve_of_linear_clipped(scene):
    shot = _shot(scene, 4, jpeg=False)
    x = crf.curve_axis()
    curve = np.interp(shot["linear_clipped"], x, shot["crf"])
    np.testing.assert_allclose(shot["ldr_unquantized"], curve, atol=1e-6)
    np.testing.assert_array_equal(shot["ldr"], quantize(shot["ldr_unquantized"]))
    # With JPEG, the same up to compression error (quality >= 90).
    shot = _shot(scene, 4)
    error = np.abs(shot["ldr"] - shot["ldr_unquantized"])
    assert error.mean() < 3.0 / 255 and error.max() > 0.5 / 255
    # The inverse curve undoes the camera curve (away from flat parts).
    linear = np.interp(shot["ldr_unquantized"], x, shot["inverse_crf"])
    assert np.median(np.abs(linear - shot["linear_clipped"])) < 1e-3


def test_same_generator_state_same_shot_and_variety(scene):
    a, b, c = _shot(scene, 7), _shot(scene, 7), _shot(scene, 8)
    for key in ("ldr", "hdr", "linear_clipped", "inverse_crf"):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["inverse_crf"], c["inverse_crf"])
    assert a["stops"] != c["stops"]


def test_bad_input_and_config_raise():
    with pytest.raises(ValueError, match=r"hdr must be \[H, W, 3\]"):
        singlehdr_camera(np.ones((4, 4)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="NaN or Inf"):
        singlehdr_camera(np.full((4, 4, 3), np.inf), np.random.default_rng(0))
    with pytest.raises(ValueError, match="jpeg_quality_range"):
        SingleHDRCameraConfig(jpeg_quality_range=(90, 101))
