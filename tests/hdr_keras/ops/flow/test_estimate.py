"""Optical flow estimation (hdr_keras/ops/flow/estimate.py)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.ops.flow import estimate_flow, outside_mask, warp


def _pair(texture, flow_fn, height=48, width=64, seed=0):
    """(reference, moving, flow): reference(p) = moving(p + flow(p)), exactly."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    dy, dx = flow_fn(y, x)
    moving = texture(y, x, seed)
    reference = texture(y + dy, x + dx, seed)
    flow = np.stack([dy, dx], -1).astype(np.float32)
    return reference[None, ..., None], moving[None, ..., None], flow[None]


def _epe(estimate, truth, margin=8):
    err = (
        np.asarray(estimate)[:, margin:-margin, margin:-margin]
        - truth[:, margin:-margin, margin:-margin]
    )
    return float(np.sqrt((err**2).sum(-1)).mean())


def test_estimate_flow_recovers_a_subpixel_translation(texture):
    reference, moving, truth = _pair(texture, lambda y, x: (1.6 + 0 * y, -2.3 + 0 * x))
    flow = estimate_flow(np.repeat(reference, 3, -1), np.repeat(moving, 3, -1))
    assert flow.shape == (1, 48, 64, 2) and flow.dtype == tf.float32
    assert _epe(flow, truth) < 0.15
    warped = np.asarray(warp(moving, flow, "bicubic"))
    assert np.abs(warped - reference)[:, 8:-8, 8:-8].mean() < 5e-3


def test_estimate_flow_recovers_a_smooth_field(texture):
    def field(y, x):
        return 2.5 * np.sin(2 * np.pi * x / 64 + 0.5), 2.0 * np.cos(2 * np.pi * y / 48)

    reference, moving, truth = _pair(texture, field, seed=3)
    flow = estimate_flow(reference, moving)
    assert _epe(flow, truth) < 0.3
    # the zero field is a much worse explanation: the estimate is not trivial
    assert _epe(np.zeros_like(truth), truth) > 8 * _epe(flow, truth)


@pytest.mark.parametrize("height, width", [(20, 28), (45, 70)])
def test_xla_solver_matches_the_graph_solver(texture, height, width):
    # (45, 70): two pyramid levels, both padded to buckets (64 x 128, 32 x 64)
    reference, moving, truth = _pair(
        texture, lambda y, x: (0.7 + 0 * y, -1.2 + 0 * x), height, width
    )
    params = dict(outer_iterations=3, sor_iterations=8)
    graph = estimate_flow(reference, moving, jit_compile=False, **params)
    xla = estimate_flow(reference, moving, jit_compile=True, **params)
    # XLA fuses and reorders the float32 arithmetic and compiles for the host's
    # instruction set; the iterations amplify that rounding to about 3e-5 px. The
    # tolerance is set by the flow's accuracy, not by that figure: 2e-3 px is 1/25
    # of this pair's EPE (0.05 px, asserted < 0.5 below) and 1/100 of what one SOR
    # sweep more or less changes (0.19 px), so a solver that differs in substance
    # (or padding that leaks into the frame) still fails.
    np.testing.assert_allclose(xla, graph, atol=2e-3)
    assert _epe(graph, truth, margin=4) < 0.5


def test_median_filter_helps_at_motion_boundaries(texture):
    """A textured square moving over a static textured background."""
    height, width = 48, 64
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    inside = (np.abs(y - 24) < 10) & (np.abs(x - 32) < 12)
    dy, dx = np.where(inside, 1.5, 0.0), np.where(inside, -2.0, 0.0)
    background, sprite = texture(y, x, 1), texture(y, x, 2)
    reference = np.where(inside, texture(y + dy, x + dx, 2), background)
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


def test_flow_and_warp_work_with_dynamic_shapes(texture):
    spec = tf.TensorSpec([None, None, None, 3], tf.float32)

    @tf.function(input_signature=[spec, spec])
    def align(reference, moving):
        flow = estimate_flow(reference, moving)
        return warp(moving, flow, "bicubic"), outside_mask(flow)

    for height, width in [(40, 56), (33, 47)]:
        reference, moving, _ = _pair(
            texture, lambda y, x: (1.0 + 0 * y, 1.5 + 0 * x), height, width
        )
        reference, moving = np.repeat(reference, 3, -1), np.repeat(moving, 3, -1)
        aligned, mask = align(reference, moving)
        assert aligned.shape == (1, height, width, 3)
        assert mask.shape == (1, height, width, 1)
        error = np.abs(np.asarray(aligned) - reference)[:, 6:-6, 6:-6].mean()
        assert error < 3e-3
        # the last column(s) sample beyond the right border
        assert np.asarray(mask)[0, 10:-10, -1, 0].all()
