"""Debevec & Malik 1997: g_solve against colour-hdri's reference, sampling, merge."""

from __future__ import annotations

import numpy as np
import pytest

from hdr_keras.methods.debevec import core as debevec
from hdr_keras.io import read_image

# colour-hdri's test: f/8, ISO 100, k = 12.5, t = 1/8, 1, 8 s (SOURCES.md).
REFERENCE_TIMES = np.array([0.125, 1.0, 8.0])


def reference_log_exposures() -> np.ndarray:
    """B = log(1 / L), L = N^2 / t / S * k (colour_hdri.average_luminance)."""
    luminance = 8.0**2 / REFERENCE_TIMES / 100.0 * 12.5
    return np.log(1.0 / luminance)


def calibration_folder(shared_data):
    return shared_data / "colour_hdri_tests" / "colour_hdri"


@pytest.mark.parametrize("channel", [0, 1, 2])
def test_g_solve_reproduces_colour_hdri_reference(shared_data, channel):
    folder = calibration_folder(shared_data)
    samples = np.load(folder / "sampling" / "test_samples_Grossberg2003.npy")
    g, log_radiance = debevec.g_solve(samples[..., channel], reference_log_exposures())
    g_ref = np.load(folder / "calibration" / f"test_g_solve_g_{channel}.npy")
    lE_ref = np.load(folder / "calibration" / f"test_g_solve_lE_{channel}.npy")
    assert g.shape == (256,) and log_radiance.shape == (1000,)
    # 1e-6 relative; entries that are 0 in the minimum-norm solution (g at the
    # unweighted levels 0, 1, 254, 255) may differ from exact zero by rounding.
    np.testing.assert_allclose(g, g_ref, rtol=1e-6, atol=1e-6 * np.abs(g_ref).max())
    np.testing.assert_allclose(
        log_radiance, lE_ref, rtol=1e-6, atol=1e-6 * np.abs(lE_ref).max()
    )
    assert np.all(np.asarray(g)[[0, 1, 254, 255]] == pytest.approx(0.0, abs=1e-9))


def test_grossberg_samples_reproduce_colour_hdri_reference(shared_data):
    folder = shared_data / "colour_hdri_tests" / "frobisher_001"
    stack = np.stack([read_image(folder / f"IMG_260{i}.jpg") for i in range(3)])
    samples = np.asarray(debevec.grossberg_samples(stack, samples=1000))
    reference = np.load(
        calibration_folder(shared_data) / "sampling" / "test_samples_Grossberg2003.npy"
    )
    assert samples.shape == reference.shape == (1000, 3, 3)
    np.testing.assert_array_equal(samples, reference)


def dense_min_norm_g_solve(z, b, smoothness, levels=256):
    """The textbook system (Debevec's gsolve.m) solved by numpy's lstsq."""
    weights = np.asarray(debevec.grid_weights(levels=levels))
    count, frames = z.shape
    a = np.zeros((count * frames + levels - 1, levels + count))
    rhs = np.zeros(a.shape[0])
    row = 0
    for i in range(count):
        for j in range(frames):
            w = weights[z[i, j]]
            a[row, z[i, j]], a[row, levels + i], rhs[row] = w, -w, w * b[j]
            row += 1
    a[row, levels // 2] = 1.0
    row += 1
    for i in range(1, levels - 1):
        a[row, i - 1 : i + 2] = smoothness * weights[i] * np.array([1.0, -2.0, 1.0])
        row += 1
    x = np.linalg.lstsq(a, rhs, rcond=None)[0]
    return x[:levels], x[levels:]


def test_g_solve_is_the_minimum_norm_least_squares_solution():
    rng = np.random.default_rng(3)
    z = rng.integers(0, 256, (60, 4))
    z[:3] = 255  # samples with zero weight in every frame: lE = 0
    z[3:5] = 0
    b = np.log(np.array([1.0, 4.0, 16.0, 64.0]))
    g, log_radiance = debevec.g_solve(z, b, smoothness=10.0)
    g_ref, lE_ref = dense_min_norm_g_solve(z, b, 10.0)
    np.testing.assert_allclose(g, g_ref, atol=1e-8)
    np.testing.assert_allclose(log_radiance, lE_ref, atol=1e-8)
    assert np.all(np.asarray(log_radiance)[:5] == 0.0)


def test_weighting_function_is_colour_hdri_triangle():
    w = np.asarray(debevec.grid_weights())
    assert w.shape == (256,) and w.max() == pytest.approx(1.0)
    assert np.all(w[[0, 1, 2, 253, 254, 255]] == 0.0) and np.all(w[3:253] > 0)
    np.testing.assert_allclose(w, w[::-1], atol=1e-12)  # symmetric on the grid
    assert debevec.weighted_level_range() == (3, 252)
    with pytest.raises(ValueError, match="weight domain"):
        debevec.weighting_function(np.zeros(3), domain=(0.6, 0.4))


def test_grid_samples_take_cell_centres():
    stack = np.arange(2 * 8 * 6 * 3, dtype=np.float32).reshape(2, 8, 6, 3)
    stack /= stack.max()
    samples = np.asarray(debevec.grid_samples(stack, samples=4))  # a 2 x 2 grid
    assert samples.shape == (4, 2, 3)
    expected = np.round(stack[:, [2, 6]][:, :, [1, 4]] * 255).reshape(2, 4, 3)
    np.testing.assert_array_equal(samples, expected.transpose(1, 0, 2))


def synthetic_stack(stops=(0.0, 2.0, 4.0, 6.0), size=(48, 64), seed=0):
    """Known radiance (about 9 stops) through a known curve: (E, Z stack, curve)."""
    rng = np.random.default_rng(seed)
    radiance = np.exp2(rng.uniform(-9.5, 0.0, size + (3,))).astype(np.float32)

    def curve(x):  # a camera-like response: toe and shoulder, not a pure gamma
        return np.clip(1.1 * x ** (1 / 2.4) / (x ** (1 / 2.4) + 0.1), 0.0, 1.0)

    frames = [
        np.round(curve(np.clip(radiance * 2.0**s, 0, 1)) * 255) / 255 for s in stops
    ]
    return radiance, np.stack(frames).astype(np.float32), curve


@pytest.mark.parametrize("sampling", debevec.SAMPLINGS)
def test_merge_recovers_known_radiance_up_to_scale(sampling):
    radiance, stack, _ = synthetic_stack()
    hdr = np.asarray(debevec.debevec_hdr(stack, [0, 2, 4, 6], sampling=sampling))
    assert hdr.shape == radiance.shape and np.all(np.isfinite(hdr)) and hdr.min() > 0
    error = np.log2(hdr) - np.log2(radiance)
    error -= np.median(error)  # one global scale
    assert np.sqrt(np.mean(error**2)) < 0.1  # stops (measured 0.057-0.065)
    # Below the curve's shoulder in the shortest frame, only 8-bit quantisation
    # remains (measured: RMS 0.016-0.018, max 0.056-0.077 stops); near radiance 1
    # only a few flat levels of the shortest frame see the pixel.
    mid = radiance < 2**-1.5
    assert np.sqrt(np.mean(error[mid] ** 2)) < 0.03
    assert np.abs(error[mid]).max() < 0.12


def test_recovered_curve_matches_the_camera_curve():
    radiance, stack, curve = synthetic_stack(seed=1)
    b = np.log(2.0) * np.array([0.0, 2.0, 4.0, 6.0])
    g = np.asarray(debevec.recover_response(stack, b))  # [3, 256]
    # The levels the data reach: curve(2 ** -9.5) = 0.43 up to the shoulder.
    levels = np.arange(115, 240)
    exposures = np.exp2(np.linspace(-12, 0, 20000))
    inverse = np.interp(levels / 255, curve(exposures), np.log(exposures))
    for channel in range(3):
        offset = np.mean(g[channel, levels] - inverse)
        np.testing.assert_allclose(g[channel, levels] - offset, inverse, atol=0.06)


def test_pixels_without_a_usable_frame_get_the_bound_of_the_nearest_frame():
    radiance, stack, _ = synthetic_stack(seed=2)
    stack[:, 0, 0] = 1.0  # saturated in every frame
    stack[:, 0, 1] = 0.0  # black in every frame
    hdr = np.asarray(debevec.debevec_hdr(stack, [0, 2, 4, 6]))
    assert np.all(np.isfinite(hdr))
    rest = hdr[1:]
    assert np.all(hdr[0, 0] >= 0.9 * rest.max(axis=(0, 1)))  # lower bound, bright
    assert np.all(hdr[0, 1] <= 1.1 * rest.min(axis=(0, 1)))  # upper bound, dark


def test_output_units_anchor_mid_grey_of_the_shortest_frame():
    """A pure-gamma camera: radiance comes out as Z ** 2.2 / t (ldr_to_hdr units)."""
    rng = np.random.default_rng(4)
    radiance = np.exp2(rng.uniform(-8, 0, (40, 40, 3)))
    stops = [0.0, 3.0, 6.0]
    stack = np.stack(
        [
            np.round(np.clip(radiance * 2.0**s, 0, 1) ** (1 / 2.2) * 255) / 255
            for s in stops
        ]
    ).astype(np.float32)
    hdr = np.asarray(debevec.debevec_hdr(stack, stops))
    ratio = np.median(hdr / radiance)
    assert ratio == pytest.approx(1.0, abs=0.1)


def test_bad_sampling_is_named():
    with pytest.raises(ValueError, match="sampling"):
        debevec.recover_response(
            np.zeros((2, 4, 4, 3), np.float32), [0.0, 1.0], sampling="x"
        )
