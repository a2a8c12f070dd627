"""Stack alignment (hdr_keras/ops/alignment.py): re-exposure, Kalantari's optical-flow
alignment (`align_stack`) and the background homography alignment of Wu et al. 2018
(`align_to_reference`) on synthetic stacks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.ops.alignment import (
    _reexpose_ev,
    align_stack,
    align_to_reference,
    reexpose,
)
from hdr_keras.ops.exposure import ev_to_time


def test_reexpose_goes_through_the_linear_domain_and_clips():
    ldr = np.array([0.0, 0.25, 0.5, 0.9], "float32")
    np.testing.assert_allclose(
        reexpose(ldr, 1.0, 4.0), np.minimum((ldr**2.2 * 4.0) ** (1 / 2.2), 1.0), 1e-6
    )
    np.testing.assert_allclose(reexpose(ldr, 2.0, 2.0), ldr, atol=1e-6)
    assert float(tf.reduce_max(reexpose(ldr, 1.0, 64.0))) == 1.0


def _stack(texture, shifts, biases, height=40, width=56):
    """Frames of one texture moved by per-frame translations, at exposure `biases`;
    the radiance is the texture ** 2.2 / 2 ** bias of the reference (middle)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = []
    for (dy, dx), bias in zip(shifts, biases):
        # frame(p) = scene(p - shift): the reference (shift 0) sees scene(p + flow)
        # in this frame at flow = shift
        scene = texture(y - dy, x - dx, seed=5)[..., None] * [1.0, 0.9, 0.8]
        frames.append(np.asarray(reexpose(scene, 1.0, 2.0 ** (bias - biases[1]))))
    return np.stack(frames)[None].astype("float32"), np.array([biases], "float32")


def test_align_stack_warps_frames_onto_the_reference_and_fills_outside(texture):
    shifts = [(1.0, 3.0), (0.0, 0.0), (-1.5, -2.0)]
    ldr, exposure = _stack(texture, shifts, [0.0, 1.0, 2.0])
    aligned, valid = align_stack(ldr, exposure)
    assert aligned.shape == ldr.shape and valid.shape == ldr.shape[:-1] + (1,)
    aligned, valid = np.asarray(aligned), np.asarray(valid)
    np.testing.assert_array_equal(aligned[:, 1], ldr[:, 1])  # reference unchanged
    assert valid[:, 1].min() == 1.0
    for i in (0, 2):
        expected = np.asarray(reexpose(ldr[:, 1], 2.0, 2.0 ** exposure[0, i]))
        error = np.abs(aligned[:, i] - expected)[:, 6:-6, 6:-6]
        assert error.mean() < 4e-3, i
    # frame 0 moved right by 3 px: the reference's last columns are not in it
    assert valid[0, 0, 5:-5, -2:].max() == 0.0 and valid[0, 0, 5:-5, :-5].min() == 1.0
    # frame 2 moved left: its flow leaves on the left, filled from the reference
    assert valid[0, 2, 5:-5, :1].max() == 0.0
    fill = np.asarray(reexpose(ldr[:, 1], 2.0, 4.0))
    hole = valid[:, 2, ..., 0] == 0.0
    np.testing.assert_allclose(aligned[:, 2][hole], fill[hole], atol=1e-6)


def test_align_stack_any_frame_count_reference_and_dynamic_shapes(texture):
    ldr, exposure = _stack(
        texture, [(0.5, 1.0), (0.0, 0.0), (0.0, -1.0)], [0.0, 2.0, 4.0]
    )

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, None, None, 3], tf.float32),
            tf.TensorSpec([None, None], tf.float32),
        ]
    )
    def dynamic(ldr, exposure):
        return align_stack(ldr, exposure)

    eager = align_stack(ldr[:, :2], exposure[:, :2], reference=1)
    graph = dynamic(ldr[:, :2], exposure[:, :2])  # N = 2: reference = 2 // 2 = 1
    np.testing.assert_allclose(eager[0], graph[0], atol=1e-5)
    np.testing.assert_array_equal(np.asarray(graph[0])[:, 1], ldr[:, 1])
    aligned, valid = align_stack(ldr, exposure, reference=0)
    np.testing.assert_array_equal(np.asarray(aligned)[:, 0], ldr[:, 0])
    assert np.asarray(valid)[:, 0].min() == 1.0
    with pytest.raises(ValueError, match="reference must be in"):
        align_stack(ldr, exposure, reference=3)
    with pytest.raises(ValueError, match="exposure"):
        align_stack(ldr, exposure[:, :2])


# ------------------------------------------------------------------------- homography


def test_homography_alignment_reexposes_in_stops_with_the_one_reexpose():
    ldr = np.random.default_rng(0).uniform(0, 1, (4, 5, 3)).astype("float32")
    for from_ev, to_ev in [(2.0, 0.0), (0.0, 2.0), (np.float64(-1.5), 0.5)]:
        stops = _reexpose_ev(ldr, from_ev, to_ev)
        assert isinstance(stops, np.ndarray) and stops.dtype == np.float32
        times = reexpose(ldr, ev_to_time(from_ev), ev_to_time(to_ev))
        np.testing.assert_array_equal(stops, times)  # the same function, bit for bit


def test_alignment_has_one_home():
    """reexpose and align_stack live in ops.alignment only (no second import path)."""
    from hdr_keras.ops import flow

    assert not hasattr(flow, "align_stack") and not hasattr(flow, "reexpose")


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
    short = _reexpose_ev(moved, 2.0, 0.0)  # the moved frame, shot 2 stops darker
    frames = np.stack([short, reference])
    aligned, homographies, valid = align_to_reference(
        frames, [0.0, 2.0], reference=1, detector=detector
    )
    np.testing.assert_allclose(homographies[1], np.eye(3))
    assert _corner_error(homographies[0], np.linalg.inv(to_moved)) < 1.0
    # The aligned frame, brought back to the reference exposure, matches it inside.
    inside = valid[0].copy()
    inside[:8], inside[-8:], inside[:, :8], inside[:, -8:] = False, False, False, False
    back = _reexpose_ev(aligned[0], 0.0, 2.0)
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
