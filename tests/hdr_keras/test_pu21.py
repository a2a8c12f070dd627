"""Tests of hdr_keras.pu21: reference values, range, monotonicity, inverse, scaling."""

from __future__ import annotations

import numpy as np
import pytest

from hdr_keras.constants import PU21_L_MAX, PU21_L_MIN
from hdr_keras.pu21 import (
    VARIANTS,
    absolute_scale,
    pu21_decode,
    pu21_encode,
    pu21_parameters,
)

# V(Y) at Y = 0.005, 1, 100 and 10000 cd/m^2 as the authors' encoder (gfxdisp/pu21,
# pu21_encoder.m, double precision) computes it with its parameters of 06/02/2020.
REFERENCE = {
    "banding": (-1.55802e-07, 84.4045, 261.752, 520.467),
    "banding_glare": (5.47046e-10, 36.5439, 256.384, 595.394),
    "peaks": (1.36737e-07, 85.542, 260.725, 380.985),
    "peaks_glare": (-9.73604e-08, 47.009, 252.298, 407.507),
}
LUMINANCES = (0.005, 1.0, 100.0, 10000.0)


def test_variants_are_the_papers_four():
    assert set(VARIANTS) == set(REFERENCE)
    assert all(len(pu21_parameters(v)) == 7 for v in VARIANTS)


@pytest.mark.parametrize("variant", sorted(REFERENCE))
def test_encode_reference_points(variant):
    values = np.asarray(pu21_encode(np.array(LUMINANCES), variant))
    # float32: the value at 0.005 cancels to ~1e-5 absolute
    np.testing.assert_allclose(values, REFERENCE[variant], rtol=2e-5, atol=2e-3)


def test_default_is_banding_glare_with_the_papers_scaling():
    default = np.asarray(pu21_encode(np.array(LUMINANCES)))
    np.testing.assert_allclose(
        default, np.asarray(pu21_encode(np.array(LUMINANCES), "banding_glare"))
    )
    # 100 cd/m^2 (an SDR display's peak) -> about 256, 0.005 cd/m^2 -> about 0
    assert abs(default[2] - 256.0) < 0.01 * 256.0
    assert abs(default[0]) < 1e-2


@pytest.mark.parametrize("variant", VARIANTS)
def test_monotonic_and_clamped(variant):
    luminance = np.logspace(np.log10(PU21_L_MIN), np.log10(PU21_L_MAX), 200)
    values = np.asarray(pu21_encode(luminance, variant))
    assert np.all(np.diff(values) > 0)
    low, high = np.asarray(pu21_encode([PU21_L_MIN, PU21_L_MAX], variant))
    np.testing.assert_allclose(
        np.asarray(pu21_encode([0.0, 1e-4, 2e4, 1e6], variant)),
        [low, low, high, high],
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_decode_inverts_encode(variant):
    luminance = np.logspace(-1, 4, 30).astype("float32")
    decoded = np.asarray(pu21_decode(pu21_encode(luminance, variant), variant))
    np.testing.assert_allclose(decoded, luminance, rtol=2e-3)


def test_unknown_variant_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown PU21 variant 'glare'.*banding_glare"):
        pu21_encode([1.0], "glare")


def test_absolute_scale_maps_the_reference_peak():
    reference = np.random.default_rng(0).uniform(0, 3, (2, 8, 8, 3)).astype("float32")
    reference[1] *= 10.0
    scale = np.asarray(absolute_scale(reference, 1000.0))
    assert scale.shape == (2, 1, 1, 1)
    np.testing.assert_allclose(
        (reference * scale).max(axis=(1, 2, 3)), [1000.0, 1000.0], rtol=1e-6
    )
    single = float(absolute_scale(reference[0]))
    np.testing.assert_allclose(single * reference[0].max(), 4000.0, rtol=1e-6)
    with pytest.raises(ValueError, match="peak_luminance must be > 0"):
        absolute_scale(reference, 0.0)
