"""Classic stack merges: the reference frame alone and the triangle-weighted merge."""

from __future__ import annotations

import numpy as np

from hdr_keras.ops.merge import reference_linearized, triangle_merge, triangle_weight


def _stack(radiance, biases, gamma=2.2):
    times = 2.0 ** np.asarray(biases, "float32")
    frames = [np.clip(radiance * t, 0, 1) ** (1 / gamma) for t in times]
    return np.stack(frames)[None].astype("float32"), np.asarray([biases], "float32")


def test_static_scene_is_recovered_exactly_where_any_frame_is_usable():
    radiance = np.exp(np.random.default_rng(0).uniform(-6, 0, (8, 9, 3))).astype("float32")
    ldr, exposure = _stack(radiance, [0.0, 2.0, 4.0])
    merged = np.asarray(triangle_merge(ldr, exposure))[0]
    np.testing.assert_allclose(merged, radiance, rtol=1e-4)
    reference = np.asarray(reference_linearized(ldr, exposure, 1))[0]
    unsaturated = ldr[0, 1] < 1.0
    np.testing.assert_allclose(reference[unsaturated], radiance[unsaturated], rtol=1e-4)


def test_biases_are_relative_and_saturation_falls_back_to_short_frame():
    radiance = np.full((2, 2, 3), 0.5, "float32")
    radiance[0, 0] = 3.0  # saturated even in the shortest frame
    ldr, exposure = _stack(radiance, [0.0, 3.0, 6.0])
    shifted = np.asarray(triangle_merge(ldr, exposure + 5.0))[0]
    np.testing.assert_allclose(shifted[0, 1], 0.5, rtol=1e-4)
    np.testing.assert_allclose(shifted[0, 0], 1.0, rtol=1e-6)  # clipped short frame


def test_motion_ghosts_in_the_unaligned_merge():
    radiance = np.full((6, 6, 3), 0.05, "float32")
    moved = radiance.copy()
    moved[2:4, 2:4] = 0.02  # a dark object present only in the long frame
    ldr, exposure = _stack(radiance, [0.0, 2.0, 4.0])
    ldr_moved, _ = _stack(moved, [0.0, 2.0, 4.0])
    ldr[0, 2] = ldr_moved[0, 2]
    merged = np.asarray(triangle_merge(ldr, exposure))[0]
    assert merged[3, 3, 0] < 0.045  # the ghost pulls the background down
    np.testing.assert_allclose(merged[0, 0], 0.05, rtol=1e-4)


def test_triangle_weight_shape():
    z = np.array([0.0, 0.25, 0.5, 1.0], "float32")
    np.testing.assert_allclose(triangle_weight(z), [0.0, 0.5, 1.0, 0.0])
