"""Mertens exposure fusion: OpenCV's pyramid and createMergeMertens on real frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hdr_keras.methods.mertens import core as mertens
from hdr_keras.io import read_image

MEMORIAL_FRAMES = (63, 67, 71)  # 1/8 s, 2 s, 32 s


@pytest.mark.parametrize("size", [(7, 9), (8, 8), (13, 6), (1, 3)])
def test_pyramid_steps_equal_opencv(size):
    image = np.random.default_rng(0).uniform(0, 1, size + (3,)).astype(np.float32)
    height, width = size
    down = np.asarray(mertens.pyr_down(image[None]))[0]
    np.testing.assert_allclose(down, cv2.pyrDown(image), atol=1e-6)
    for target in [(2 * height, 2 * width), (2 * height - 1, 2 * width - 1)]:
        up = np.asarray(mertens.pyr_up(image[None], *target))[0]
        expected = cv2.pyrUp(image, dstsize=(target[1], target[0]))
        np.testing.assert_allclose(up, expected, atol=1e-6)


@pytest.mark.parametrize(
    "height, width, levels", [(512, 768, 9), (7, 9, 2), (1, 5, 0), (16, 16, 4)]
)
def test_pyramid_levels_as_opencv(height, width, levels):
    assert int(mertens.pyramid_levels(height, width)) == levels


def test_fusion_of_identical_frames_is_the_frame():
    frame = np.random.default_rng(1).uniform(0, 1, (1, 1, 21, 30, 3)).astype(np.float32)
    for stack in (frame, np.concatenate([frame, frame], axis=1)):
        np.testing.assert_allclose(
            mertens.exposure_fusion(stack)[0], frame[0, 0], atol=1e-6
        )


def test_weights_are_normalised_and_favour_the_well_exposed_frame():
    dark = np.full((4, 4, 3), 0.05, np.float32)
    dark[..., 0] = 0.1  # some saturation and contrast in every frame
    dark[1:3, 1:3] += 0.02
    mid = np.clip(dark * 8, 0, 1)
    weights = np.asarray(mertens.fusion_weights(np.stack([dark, mid])[None]))
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    # The corners have no contrast in either frame: both weights are the floor.
    np.testing.assert_allclose(weights[0, :, 0, 0], 0.5)
    assert np.all(weights[0, 1, 1:3, 1:3] > 0.99)


def test_fusion_matches_opencv_on_memorial_frames(shared_data):
    folder = shared_data / "memorial_church_debevec"
    frames = [read_image(folder / f"memorial{n:04d}.png") for n in MEMORIAL_FRAMES]
    frames = [frame[128:384, 192:576] for frame in frames]  # 256 x 384 crop
    pixels = [np.round(frame * 255).astype(np.uint8) for frame in frames]
    # The paper's weights (OpenCV defaults to exposure_weight=0). OpenCV gets the
    # RGB arrays so that its COLOR_RGB2GRAY contrast sees the same grey level.
    expected = cv2.createMergeMertens(1.0, 1.0, 1.0).process(pixels)
    stack = (np.stack(pixels)[None] / 255.0).astype(np.float32)
    fused = np.asarray(mertens.exposure_fusion(stack))[0]
    difference = np.abs(fused - expected)
    # Measured on the full 512 x 768 frames 63, 66, 69, 72, 75: max 4.7e-4,
    # mean 1e-7 (float32 rounding through 9 pyramid levels).
    assert difference.max() < 2e-3 and difference.mean() < 1e-5
    assert expected.min() < 0.0 or expected.max() > 1.0  # unclipped, as OpenCV
    clipped = np.asarray(mertens.exposure_fusion(stack, clip=True))[0]
    np.testing.assert_allclose(clipped, np.clip(fused, 0, 1))
