"""Background homography alignment (Wu et al. 2018) on synthetic stacks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hdr_keras.ops.homography import align_to_reference, reexpose

HEIGHT, WIDTH = 240, 320


def _scene(seed: int = 0) -> np.ndarray:
    """A textured RGB image in [0, 0.9] with plenty of corners."""
    rng = np.random.default_rng(seed)
    image = np.zeros((HEIGHT, WIDTH, 3), np.float32)
    for scale in (4, 16, 64):  # multi-scale noise
        noise = rng.uniform(0, 1, (HEIGHT // scale + 1, WIDTH // scale + 1, 3))
        image += cv2.resize(noise.astype(np.float32), (WIDTH, HEIGHT)) / 3
    for _ in range(60):  # rectangles: strong corners
        x, y = rng.integers(0, WIDTH - 20), rng.integers(0, HEIGHT - 20)
        w, h = rng.integers(6, 30, size=2)
        cv2.rectangle(
            image,
            (int(x), int(y)),
            (int(x + w), int(y + h)),
            rng.uniform(0, 1, 3).tolist(),
            -1,
        )
    return np.clip(image, 0.0, 1.0) * 0.9


def _known_homography() -> np.ndarray:
    """Rotation by 3 degrees about the centre, shift (6, -4) px, slight perspective."""
    angle = np.deg2rad(3.0)
    c, s = np.cos(angle), np.sin(angle)
    centre = np.array([[1, 0, WIDTH / 2], [0, 1, HEIGHT / 2], [0, 0, 1]])
    rotate = np.array([[c, -s, 6.0], [s, c, -4.0], [1e-5, -2e-5, 1.0]])
    return centre @ rotate @ np.linalg.inv(centre)


def _corner_error(estimated: np.ndarray, expected: np.ndarray) -> float:
    corners = np.float64(
        [[0, 0], [WIDTH - 1, 0], [0, HEIGHT - 1], [WIDTH - 1, HEIGHT - 1]]
    )
    points = corners.reshape(-1, 1, 2)
    got = cv2.perspectiveTransform(points, estimated)
    want = cv2.perspectiveTransform(points, expected)
    return float(np.max(np.linalg.norm(got - want, axis=-1)))


@pytest.mark.parametrize("detector", ["sift", "orb"])
def test_recovers_known_homography_across_exposures(detector):
    reference = _scene()
    to_moved = _known_homography()  # reference coordinates -> moved-frame coordinates
    moved = cv2.warpPerspective(
        reference, to_moved, (WIDTH, HEIGHT), borderMode=cv2.BORDER_REFLECT
    )
    short = reexpose(moved, 2.0, 0.0)  # the moved frame, shot 2 stops darker
    frames = np.stack([short, reference])
    aligned, homographies, valid = align_to_reference(
        frames, [0.0, 2.0], reference=1, detector=detector
    )
    np.testing.assert_allclose(homographies[1], np.eye(3))
    assert _corner_error(homographies[0], np.linalg.inv(to_moved)) < 1.0
    # The aligned frame, brought back to the reference exposure, matches it inside.
    inside = valid[0].copy()
    inside[:8], inside[-8:], inside[:, :8], inside[:, -8:] = False, False, False, False
    back = reexpose(aligned[0], 0.0, 2.0)
    assert np.median(np.abs(back - reference)[inside]) < 0.02
    assert 0.8 < valid[0].mean() < 1.0  # the rotated frame does not cover the corners
    np.testing.assert_array_equal(aligned[1], reference)


def test_featureless_frame_falls_back_to_identity_with_warning():
    flat = np.full((64, 80, 3), 0.5, np.float32)
    with pytest.warns(RuntimeWarning, match="too few feature matches"):
        aligned, homographies, valid = align_to_reference(
            np.stack([flat, flat, flat]), [0.0, 2.0, 4.0]
        )
    np.testing.assert_allclose(homographies, np.tile(np.eye(3), (3, 1, 1)))
    np.testing.assert_array_equal(aligned, np.stack([flat] * 3))
    assert valid.all()


def test_rejects_mismatched_exposures():
    with pytest.raises(ValueError, match="exposure biases"):
        align_to_reference(np.zeros((3, 8, 8, 3)), [0.0, 2.0])
