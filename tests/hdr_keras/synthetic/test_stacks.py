"""Tests of the synthetic dynamic-scene exposure stacks (hdr_keras.synthetic.stacks)."""

from __future__ import annotations

import numpy as np
import pytest

from hdr_keras.constants import GAMMA
from hdr_keras.synthetic.scenes import object_bounds, sample_scene
from hdr_keras.ops.stack import default_reference as reference_index
from hdr_keras.synthetic.stacks import BIAS_SETS, generate_stack

SIZE = 128
QUANT = 0.5 / 255  # 8-bit rounding error


def _times(stack) -> np.ndarray:
    return 2.0 ** stack["exposure"].astype(np.float64)


def _predicted_ldr(stack, index: int) -> np.ndarray:
    """The target re-exposed as frame `index` without noise: clip(H t)^(1/gamma)."""
    exposed = np.clip(stack["hdr"].astype(np.float64) * _times(stack)[index], 0, 1)
    return exposed ** (1.0 / GAMMA)


def _noise_bound(stack) -> float:
    return 6.0 * stack["noise_sigma"] + QUANT + 1e-5


def _moving_mask(seed: int, stack, height: int, width: int) -> np.ndarray:
    """Pixels touched (with shadows, 2 px margin) by an object in any frame where it
    is displaced, or at its reference place."""
    spec = sample_scene(seed)
    mask = np.zeros((height, width), bool)
    for k in range(len(spec.objects)):
        offsets = stack["object_offsets"][:, k]
        if not np.any(offsets):
            continue
        for offset in offsets:
            box = object_bounds(spec, k, height, width, tuple(float(v) for v in offset))
            if box is not None:
                y0, y1, x0, x1 = box
                mask[max(y0 - 2, 0) : y1 + 2, max(x0 - 2, 0) : x1 + 2] = True
    return mask


@pytest.fixture(scope="module")
def stacks():
    return {seed: generate_stack(seed, SIZE, SIZE) for seed in range(6)}


def test_deterministic_shapes_and_ranges():
    first = generate_stack(3, 48, 80)
    second = generate_stack(3, 48, 80)
    for key, value in first.items():
        np.testing.assert_array_equal(value, second[key], err_msg=key)
    other = generate_stack(4, 48, 80)
    assert not np.array_equal(first["ldr"], other["ldr"])

    assert first["ldr"].shape == (3, 48, 80, 3) and first["ldr"].dtype == np.float32
    assert first["hdr"].shape == (48, 80, 3) and first["hdr"].dtype == np.float32
    assert first["exposure"].shape == (3,) and first["exposure"].dtype == np.float32
    assert first["reference"] == 1 == reference_index(3)
    assert first["ldr"].min() >= 0 and first["ldr"].max() <= 1
    np.testing.assert_allclose(
        first["ldr"] * 255, np.round(first["ldr"] * 255), atol=1e-3
    )
    assert first["hdr"].min() >= 0 and first["hdr"].max() <= 1.0
    assert np.isfinite(first["hdr"]).all()
    # Frames get brighter with exposure.
    assert np.all(np.diff(first["ldr"].mean(axis=(1, 2, 3))) > 0)


def test_exposure_sets_and_explicit_biases():
    drawn = {tuple(generate_stack(s, 32, 32)["exposure"].tolist()) for s in range(12)}
    assert drawn == set(BIAS_SETS)

    five = generate_stack(1, 32, 32, num_frames=5, biases=[1, 2.5, 4, 5.5, 7])
    np.testing.assert_array_equal(five["exposure"], [0, 1.5, 3, 4.5, 6])
    assert five["ldr"].shape == (5, 32, 32, 3) and five["reference"] == 2
    with pytest.raises(ValueError, match="increasing"):
        generate_stack(1, 32, 32, biases=[0, 4, 2])
    with pytest.raises(ValueError, match="3 finite values"):
        generate_stack(1, 32, 32, biases=[0, 2])
    with pytest.raises(ValueError, match="num_frames"):
        generate_stack(1, 32, 32, num_frames=1)


def test_reference_frame_matches_label(stacks):
    for seed, stack in stacks.items():
        ref = stack["reference"]
        z_ref = stack["ldr"][ref].astype(np.float64)
        predicted = _predicted_ldr(stack, ref)
        # Display domain: everywhere, saturated pixels included (the label is in the
        # units where the reference frame is the label re-exposed).
        assert np.abs(z_ref - predicted).max() <= _noise_bound(stack), seed
        # Linear domain, Kalantari's H = Z ** 2.2 / t, where the frame is unsaturated.
        t_ref = _times(stack)[ref]
        linear = z_ref**GAMMA / t_ref
        valid = (z_ref > 0.2) & (z_ref < 0.95)
        assert valid.mean() > 0.3, seed
        slope = GAMMA * np.maximum(z_ref, predicted) ** (GAMMA - 1) / t_ref
        error = np.abs(linear - stack["hdr"])[valid]
        assert np.all(error <= (slope * _noise_bound(stack))[valid] * 1.01), seed


@pytest.mark.parametrize("seed", [0, 7])
def test_objects_move_while_static_background_agrees(seed):
    stack = generate_stack(seed, SIZE, SIZE, max_camera_shift=0.0)
    assert not np.any(stack["camera_offsets"])
    moving = _moving_mask(seed, stack, SIZE, SIZE)
    assert 0.01 < moving.mean() < 0.95
    for index in (0, 2):
        # Re-expose the label as this frame: differences beyond noise are geometry.
        difference = np.abs(stack["ldr"][index] - _predicted_ldr(stack, index)).max(
            axis=-1
        )
        assert difference[~moving].max() <= _noise_bound(stack)
        changed = difference > 0.15
        assert changed.sum() >= 20, (seed, index)
        assert np.all(moving[changed])
        offsets = stack["object_offsets"][index]
        assert np.abs(offsets[:, :2]).max() > 0.05 * SIZE  # a clearly moving object


def test_motion_sizes_and_camera_shift():
    largest, rotations = 0.0, 0.0
    for seed in range(12):
        stack = generate_stack(seed, 64, 64)
        offsets = stack["object_offsets"]
        assert not np.any(offsets[1]) and not np.any(stack["camera_offsets"][1])
        largest = max(largest, np.hypot(offsets[..., 0], offsets[..., 1]).max())
        rotations = max(rotations, np.abs(offsets[..., 2]).max())
        cameras = stack["camera_offsets"][[0, 2]]
        assert np.any(cameras) and np.abs(cameras).max() <= 0.012 * 64 + 1e-4
    assert 0.12 * 64 < largest <= (0.2 + 0.015) * 64  # up to ~20 % of the frame
    assert rotations > 0.1


def test_long_frame_saturates_and_short_frame_is_noisy(stacks):
    for seed, stack in stacks.items():
        saturated = (stack["ldr"].max(axis=-1) >= 0.97).mean(axis=(1, 2))
        assert saturated[2] > 0.05 and saturated[2] > saturated[1] > saturated[0]
        assert saturated[0] < 0.03, seed  # the short frame keeps the highlights
    for seed in range(4):
        # A static stack, so every frame shows the label's geometry: where the short
        # frame is dark and the long one well exposed, the short frame's
        # linearisation is much noisier (noise + quantisation over Z ~ 0).
        stack = generate_stack(
            seed,
            SIZE,
            SIZE,
            max_object_motion=0.0,
            max_rotation=0.0,
            max_camera_shift=0.0,
        )
        times = _times(stack)
        z_short, z_long = _predicted_ldr(stack, 0), _predicted_ldr(stack, 2)
        region = (z_short < 0.12) & (z_long > 0.2) & (z_long < 0.9)
        assert region.sum() > 100, seed
        hdr = stack["hdr"].astype(np.float64)
        relative = [
            np.median(
                np.abs(stack["ldr"][i] ** GAMMA / times[i] - hdr)[region] / hdr[region]
            )
            for i in (0, 2)
        ]
        assert relative[0] > 2.5 * relative[1], (seed, relative)
