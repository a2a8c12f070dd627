"""Optical flow, warping and stack alignment in TF ops (hdr_keras/ops/flow.py)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.ops.flow import (
    align_stack,
    estimate_flow,
    outside_mask,
    reexpose,
    warp,
)

RNG = np.random.default_rng(0)


def _texture(y, x, seed=0):
    """Analytic band-limited texture in [0, 1], exact at any real (y, x)."""
    rng = np.random.default_rng(seed)
    out = np.full(np.broadcast(y, x).shape, 0.5)
    for _ in range(12):
        k = 2 * np.pi / rng.uniform(6.0, 16.0)
        theta, phase = rng.uniform(0, 2 * np.pi, 2)
        out += 0.035 * np.sin(k * (y * np.cos(theta) + x * np.sin(theta)) + phase)
    return out.astype(np.float32)


def _pair(flow_fn, height=48, width=64, seed=0):
    """(reference, moving, flow): reference(p) = moving(p + flow(p)), exactly."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    dy, dx = flow_fn(y, x)
    moving = _texture(y, x, seed)
    reference = _texture(y + dy, x + dx, seed)
    flow = np.stack([dy, dx], -1).astype(np.float32)
    return reference[None, ..., None], moving[None, ..., None], flow[None]


def _epe(estimate, truth, margin=8):
    err = (
        np.asarray(estimate)[:, margin:-margin, margin:-margin]
        - truth[:, margin:-margin, margin:-margin]
    )
    return float(np.sqrt((err**2).sum(-1)).mean())


# ------------------------------------------------------------------------- warp


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_warp_integer_shift_is_exact_in_the_interior(interpolation):
    image = RNG.uniform(0, 1, (2, 12, 16, 3)).astype("float32")
    flow = np.zeros((2, 12, 16, 2), "float32")
    flow[0, ..., 0], flow[0, ..., 1] = 2.0, -3.0
    flow[1, ..., 0], flow[1, ..., 1] = -1.0, 4.0
    out = np.asarray(warp(image, flow, interpolation))
    # output(y, x) = image(y + dy, x + dx); interior = all taps inside the frame
    np.testing.assert_array_equal(out[0, 1:8, 5:13], image[0, 3:10, 2:10])
    np.testing.assert_array_equal(out[1, 3:9, 1:9], image[1, 2:8, 5:13])


def _keys(s, a=-0.5):
    s = np.abs(s)
    return np.where(
        s <= 1,
        (a + 2) * s**3 - (a + 3) * s**2 + 1,
        np.where(s < 2, a * s**3 - 5 * a * s**2 + 8 * a * s - 4 * a, 0.0),
    )


def _reference_warp(image, flow, interpolation):
    """Direct NumPy evaluation: sum over taps of kernel(distance) * clamped pixel."""
    b, h, w, c = image.shape
    out = np.zeros_like(image, dtype=np.float64)
    kernel = (
        _keys if interpolation == "bicubic" else lambda s: np.maximum(1 - abs(s), 0)
    )
    reach = 2 if interpolation == "bicubic" else 1
    for n in range(b):
        for i in range(h):
            for j in range(w):
                y, x = i + flow[n, i, j, 0], j + flow[n, i, j, 1]
                for ty in range(
                    int(np.floor(y)) - reach + 1, int(np.floor(y)) + reach + 1
                ):
                    for tx in range(
                        int(np.floor(x)) - reach + 1, int(np.floor(x)) + reach + 1
                    ):
                        weight = kernel(y - ty) * kernel(x - tx)
                        pixel = image[n, min(max(ty, 0), h - 1), min(max(tx, 0), w - 1)]
                        out[n, i, j] += weight * pixel
    return out


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_warp_matches_direct_kernel_evaluation(interpolation):
    image = RNG.uniform(0, 1, (2, 6, 7, 2)).astype("float32")
    flow = RNG.uniform(-3, 3, (2, 6, 7, 2)).astype("float32")
    expected = _reference_warp(image, flow, interpolation)
    np.testing.assert_allclose(warp(image, flow, interpolation), expected, atol=2e-6)


def test_warp_clamps_to_the_border_and_outside_mask_marks_it():
    image = RNG.uniform(0, 1, (1, 5, 6, 1)).astype("float32")
    flow = np.zeros((1, 5, 6, 2), "float32")
    flow[0, :, :, 1] = 100.0  # far right of the frame
    flow[0, 0, 0] = (-0.5, 0.0)  # just above the frame
    flow[0, 4, 5] = (0.0, 0.0)  # the corner itself is inside
    out = np.asarray(warp(image, flow, "bicubic"))
    np.testing.assert_allclose(out[0, 1:, :5, 0], np.repeat(image[0, 1:, 5:, 0], 5, 1))
    mask = np.asarray(outside_mask(flow))[0, ..., 0]
    expected = np.ones((5, 6))
    expected[4, 5] = 0.0
    np.testing.assert_array_equal(mask, expected)
    assert outside_mask(np.zeros((2, 3, 4, 2), "float32")).shape == (2, 3, 4, 1)


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_warp_gradients_match_finite_differences(interpolation):
    image = tf.constant(RNG.uniform(0, 1, (1, 5, 6, 2)), tf.float64)
    # fractional parts away from 0 and 1: the interpolant is smooth there
    flow = tf.constant(RNG.uniform(0.2, 0.8, (1, 5, 6, 2)) * [1, -1], tf.float64)
    weights = tf.constant(RNG.normal(0, 1, (1, 5, 6, 2)), tf.float64)

    def loss(image, flow):
        out = warp(tf.cast(image, tf.float32), tf.cast(flow, tf.float32), interpolation)
        return tf.reduce_sum(tf.cast(out, tf.float64) * weights)

    with tf.GradientTape() as tape:
        tape.watch([image, flow])
        value = loss(image, flow)
    grads = tape.gradient(value, [image, flow])
    h = 1e-3
    for i, grad in enumerate(grads):
        assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0.01
        for _ in range(3):  # directional derivatives along random directions
            d = tf.constant(RNG.normal(0, 1, grad.shape), tf.float64)
            args = [image, flow]
            plus, minus = list(args), list(args)
            plus[i], minus[i] = args[i] + h * d, args[i] - h * d
            numeric = (loss(*plus) - loss(*minus)) / (2 * h)
            analytic = tf.reduce_sum(grad * d)
            np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=2e-2)


def test_warp_rejects_bad_arguments():
    image = np.zeros((1, 4, 5, 3), "float32")
    with pytest.raises(ValueError, match="interpolation"):
        warp(image, np.zeros((1, 4, 5, 2), "float32"), "nearest")
    with pytest.raises(ValueError, match="flow must have 2 channels"):
        warp(image, np.zeros((1, 4, 5, 3), "float32"))
    with pytest.raises(ValueError, match="image must be rank 4"):
        warp(image[0], np.zeros((1, 4, 5, 2), "float32"))
    with pytest.raises(ValueError, match="same batch, height and width"):
        warp(image, np.zeros((1, 4, 6, 2), "float32"))


# ------------------------------------------------------------------------- flow


def test_estimate_flow_recovers_a_subpixel_translation():
    reference, moving, truth = _pair(lambda y, x: (1.6 + 0 * y, -2.3 + 0 * x))
    flow = estimate_flow(np.repeat(reference, 3, -1), np.repeat(moving, 3, -1))
    assert flow.shape == (1, 48, 64, 2) and flow.dtype == tf.float32
    assert _epe(flow, truth) < 0.15
    warped = np.asarray(warp(moving, flow, "bicubic"))
    assert np.abs(warped - reference)[:, 8:-8, 8:-8].mean() < 5e-3


def test_estimate_flow_recovers_a_smooth_field():
    def field(y, x):
        return 2.5 * np.sin(2 * np.pi * x / 64 + 0.5), 2.0 * np.cos(2 * np.pi * y / 48)

    reference, moving, truth = _pair(field, seed=3)
    flow = estimate_flow(reference, moving)
    assert _epe(flow, truth) < 0.3
    # the zero field is a much worse explanation: the estimate is not trivial
    assert _epe(np.zeros_like(truth), truth) > 8 * _epe(flow, truth)


@pytest.mark.parametrize("width", [9, 10])
def test_packed_red_black_sor_equals_the_masked_one(width):
    from hdr_keras.ops import flow as flow_ops

    height = 7
    cols, rows = np.arange(width)[None, :], np.arange(height)[:, None]

    def field(low, high):
        return tf.constant(RNG.uniform(low, high, (2, height, width, 1)), tf.float32)

    edge_x = field(0.1, 1.0) * ((cols < width - 1)[None, ..., None])
    edge_y = field(0.1, 1.0) * ((rows < height - 1)[None, ..., None])
    system = (field(0, 1), field(-0.1, 0.1), field(0, 1), field(-1, 1), field(-1, 1))
    system += (edge_x, edge_y)
    masked = flow_ops._sor(system, 7, 0.5, 1.8)
    packed = flow_ops._sor_packed(system, 7, 0.5, 1.8)
    for a, b in zip(masked, packed):
        assert float(tf.reduce_max(tf.abs(a))) > 0.1
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_xla_solver_matches_the_graph_solver():
    # 28 px wide, min_width 20: one pyramid level, so one XLA compilation
    reference, moving, truth = _pair(lambda y, x: (0.7 + 0 * y, -1.2 + 0 * x), 20, 28)
    # bilinear re-warping: a smaller XLA program, compiled faster
    params = dict(outer_iterations=3, sor_iterations=8, interpolation="bilinear")
    graph = estimate_flow(reference, moving, **params)
    xla = estimate_flow(reference, moving, jit_compile=True, **params)
    # XLA fuses and reorders the float32 arithmetic and compiles for the host's
    # instruction set; the iterations amplify that rounding to 3e-5 px (AVX-512) or
    # 4e-5 px (AVX2, oneDNN off). The tolerance is set by the flow's accuracy, not by
    # that figure: 2e-3 px is 1/25 of this pair's EPE (0.05 px, asserted < 0.5 below)
    # and 1/100 of what one SOR sweep more or less changes (0.19 px), so a solver that
    # differs in substance still fails.
    np.testing.assert_allclose(xla, graph, atol=2e-3)
    assert _epe(graph, truth, margin=4) < 0.5


def test_median_filter_removes_an_outlier_and_keeps_a_motion_boundary():
    from hdr_keras.ops import flow as flow_ops

    flow = np.zeros((1, 12, 12, 2), "float32")
    flow[:, :, 6:, 1] = 3.0  # a vertical motion boundary
    flow[0, 3, 2] = (9.0, -9.0)  # an isolated outlier
    filtered = np.asarray(flow_ops._median_filter(tf.constant(flow), 5))
    expected = flow.copy()
    expected[0, 3, 2] = 0.0
    np.testing.assert_array_equal(filtered, expected)


def test_median_filter_helps_at_motion_boundaries():
    """A textured square moving over a static textured background."""
    height, width = 48, 64
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    inside = (np.abs(y - 24) < 10) & (np.abs(x - 32) < 12)
    dy, dx = np.where(inside, 1.5, 0.0), np.where(inside, -2.0, 0.0)
    background, sprite = _texture(y, x, 1), _texture(y, x, 2)
    reference = np.where(inside, _texture(y + dy, x + dx, 2), background)
    moved = (np.abs(y - 1.5 - 24) < 10) & (np.abs(x + 2.0 - 32) < 12)
    moving = np.where(moved, sprite, background)
    truth = np.stack([dy, dx], -1)[None].astype("float32")
    args = (reference[None, ..., None], moving[None, ..., None])
    with_median = _epe(estimate_flow(*args), truth, margin=4)
    without = _epe(estimate_flow(*args, median_filter=0), truth, margin=4)
    assert with_median < without


def test_estimate_flow_rejects_bad_arguments():
    image = np.zeros((1, 16, 16, 3), "float32")
    with pytest.raises(ValueError, match="median_filter"):
        estimate_flow(image, image, median_filter=4)
    with pytest.raises(ValueError, match="ratio"):
        estimate_flow(image, image, ratio=0.99)
    with pytest.raises(ValueError, match="sor_iterations"):
        estimate_flow(image, image, sor_iterations=0)
    with pytest.raises(ValueError, match="moving must be rank 4"):
        estimate_flow(image, image[0])
    with pytest.raises(ValueError, match="same batch, height and width"):
        estimate_flow(image, np.zeros((1, 16, 17, 3), "float32"))


def test_flow_and_warp_work_with_dynamic_shapes():
    spec = tf.TensorSpec([None, None, None, 3], tf.float32)

    @tf.function(input_signature=[spec, spec])
    def align(reference, moving):
        flow = estimate_flow(reference, moving)
        return warp(moving, flow, "bicubic"), outside_mask(flow)

    for height, width in [(40, 56), (33, 47)]:
        reference, moving, _ = _pair(
            lambda y, x: (1.0 + 0 * y, 1.5 + 0 * x), height, width
        )
        reference, moving = np.repeat(reference, 3, -1), np.repeat(moving, 3, -1)
        aligned, mask = align(reference, moving)
        assert aligned.shape == (1, height, width, 3)
        assert mask.shape == (1, height, width, 1)
        error = np.abs(np.asarray(aligned) - reference)[:, 6:-6, 6:-6].mean()
        assert error < 3e-3
        # the last column(s) sample beyond the right border
        assert np.asarray(mask)[0, 10:-10, -1, 0].all()


# ------------------------------------------------------------------------- stacks


def test_reexpose_goes_through_the_linear_domain_and_clips():
    ldr = np.array([0.0, 0.25, 0.5, 0.9], "float32")
    np.testing.assert_allclose(
        reexpose(ldr, 1.0, 4.0), np.minimum((ldr**2.2 * 4.0) ** (1 / 2.2), 1.0), 1e-6
    )
    np.testing.assert_allclose(reexpose(ldr, 2.0, 2.0), ldr, atol=1e-6)
    assert float(tf.reduce_max(reexpose(ldr, 1.0, 64.0))) == 1.0


def _stack(shifts, biases, height=40, width=56):
    """Frames of one texture moved by per-frame translations, at exposure `biases`;
    the radiance is the texture ** 2.2 / 2 ** bias of the reference (middle)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = []
    for (dy, dx), bias in zip(shifts, biases):
        # frame(p) = scene(p - shift): the reference (shift 0) sees scene(p + flow)
        # in this frame at flow = shift
        scene = _texture(y - dy, x - dx, seed=5)[..., None] * [1.0, 0.9, 0.8]
        frames.append(np.asarray(reexpose(scene, 1.0, 2.0 ** (bias - biases[1]))))
    return np.stack(frames)[None].astype("float32"), np.array([biases], "float32")


def test_align_stack_warps_frames_onto_the_reference_and_fills_outside():
    shifts = [(1.0, 3.0), (0.0, 0.0), (-1.5, -2.0)]
    ldr, exposure = _stack(shifts, [0.0, 1.0, 2.0])
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


def test_align_stack_any_frame_count_reference_and_dynamic_shapes():
    ldr, exposure = _stack([(0.5, 1.0), (0.0, 0.0), (0.0, -1.0)], [0.0, 2.0, 4.0])

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
