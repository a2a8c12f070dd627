"""`estimate_flow`: Ce Liu's coarse-to-fine variational optical flow in TF ops.

The code Kalantari & Ramamoorthi's alignment calls (METHODS.md section 1), such that
`warp(moving, flow)` matches `reference`; all TF ops, dynamic H and W, usable inside
`tf.function` and SavedModels. It follows Liu's `OpticalFlow::Coarse2FineFlow` /
`SmoothFlowSOR` (the C++ behind `Coarse2FineTwoFrames`), in grey levels:
- Gaussian pyramid of the (reference, moving) pair (`pyramid.py`);
- features per level: grey, and its x/y derivatives ([1, -8, 0, 8, -1] / 12) when
  `gradient_constancy` (Liu's `im2feature`), all with the same robust data term;
- per level (coarse to fine, the flow of the coarser level resized and scaled):
  `outer_iterations + k` re-warpings (k = level index, 0 = finest); the moving
  features are warped with `interpolation` (bicubic by default, Liu's alternative
  branch: his default, bilinear, gives about 1.7 times the end-point error on
  the benchmark), pixels whose flow leaves the frame take the reference's values;
  derivatives of 0.4 * reference + 0.6 * warped after a
  [0.02, 0.11, 0.74, 0.11, 0.02] blur; `inner_iterations` IRLS re-weightings of the
  Charbonnier data (psi) and smoothness (phi) terms (epsilon 1e-3); the linear system
  (with Liu's extra 0.05 * alpha diagonal term) solved by `sor_iterations + 3k`
  sweeps of SOR (omega 1.8), vectorised as red-black Gauss-Seidel on
  checkerboard-packed arrays (`sor.py`; the level loop is `solver.py`);
- after each warping step, a 5x5 median filter of the flow (`median.py`; Sun, Roth
  & Black 2010, not in Liu's code; `median_filter=0` turns it off).
The estimator is not differentiated through: its inputs pass `tf.stop_gradient`
(the flow is a constant for a loss; `warp` stays differentiable).

Deviations from Liu's code: grey only (no G-R, G-B colour features); the flow is
scaled by the exact size ratio between levels (Liu: 1 / ratio); red-black instead
of raster SOR order; the pyramid's two (see `pyramid.py`).
Speed: op by op, TF's per-op overhead dominates the small pyramid levels and one
memory pass per op the large ones. With `jit_compile` (the default) the warp and
the increment (IRLS systems + SOR sweeps) of every warping step run as XLA programs
compiled per size bucket (`buckets.py`): one compiled program serves all levels and
images whose padded size falls in its bucket, so compilation (about a second per
bucket on a 2-core CPU) is paid once per process and bucket.
"""

from __future__ import annotations

import inspect
import time

import tensorflow as tf

from hdr_keras.constants import (
    FLOW_ALPHA,
    FLOW_INNER_ITERATIONS,
    FLOW_JIT_COMPILE,
    FLOW_MIN_WIDTH,
    FLOW_OUTER_ITERATIONS,
    FLOW_RATIO,
    FLOW_SOR_ITERATIONS,
    FLOW_SOR_OMEGA,
    FLOW_MEDIAN_FILTER,
    FLOW_WARP_INTERPOLATION,
)
from hdr_keras.ops.color import luminance
from hdr_keras.ops.flow.pyramid import _build_pyramid, _num_levels
from hdr_keras.ops.flow.solver import refine_level
from hdr_keras.ops.flow.warping import _as_image, _check_interpolation, _check_same_grid


def _upsample(flow: tf.Tensor, size) -> tf.Tensor:
    """The coarser level's flow resized to `size` and scaled by the size ratio."""
    scale = tf.cast(size, tf.float32) / tf.cast(tf.shape(flow)[1:3], tf.float32)
    return tf.image.resize(flow, size, "bilinear") * scale


def _coarse_to_fine(grey_pair, *, ratio, min_width, outer, sor, **options):
    """Liu's Coarse2FineFlow on grey_pair [B, H, W, 2] (reference, moving);
    `options` go to `solver.refine_level`."""
    shape = tf.shape(grey_pair)
    levels = _num_levels(shape[2], ratio, min_width)
    pyramid = _build_pyramid(grey_pair, levels, ratio)
    top = tf.shape(pyramid.read(levels - 1))

    def body(k, flow):
        level = pyramid.read(k)
        flow = _upsample(flow, tf.shape(level)[1:3])
        flow = refine_level(level, flow, outer + k, sor + 3 * k, **options)
        return k - 1, flow

    flow = tf.zeros([shape[0], top[1], top[2], 2], tf.float32)
    _, flow = tf.while_loop(
        lambda k, _: k >= 0,
        body,
        [levels - 1, flow],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, None, None, 2])],
    )
    return flow


_coarse_to_fine_graph = tf.function(
    _coarse_to_fine, reduce_retracing=True, autograph=False
)


def time_levels(reference, moving, **params) -> tuple[tf.Tensor, list[dict]]:
    """`estimate_flow(reference, moving, **params)` one pyramid level at a time,
    timed: (flow, one dict per level, coarsest first: level, height, width,
    outer iterations, SOR sweeps, seconds of a warm call).

    For benchmarks (`benchmarks.flow_accuracy`): the same steps as estimate_flow,
    but each level's solver is a separate call, run twice (the first traces it and
    compiles its XLA programs), and the second is timed.
    """
    arguments = inspect.signature(estimate_flow).bind(reference, moving, **params)
    arguments.apply_defaults()  # estimate_flow's defaults
    grey, options = _prepare(**arguments.arguments)
    ratio, min_width = options.pop("ratio"), options.pop("min_width")
    outer, sor = options.pop("outer"), options.pop("sor")
    levels = int(_num_levels(tf.shape(grey)[2], ratio, min_width))
    pyramid = _build_pyramid(grey, tf.constant(levels), ratio)
    refine = tf.function(refine_level, reduce_retracing=True, autograph=False)
    top = pyramid.read(levels - 1)
    flow = tf.zeros([top.shape[0], top.shape[1], top.shape[2], 2], tf.float32)
    rows = []
    for k in range(levels - 1, -1, -1):
        level = pyramid.read(k)
        flow = _upsample(flow, tf.shape(level)[1:3])
        args = (level, flow, outer + k, sor + 3 * k)
        refine(*args, **options).numpy()
        start = time.perf_counter()
        flow = refine(*args, **options)
        flow.numpy()
        seconds = time.perf_counter() - start
        height, width = level.shape[1:3]
        rows.append(dict(level=k, height=height, width=width, outer=outer + k,
                         sweeps=sor + 3 * k, seconds=seconds))
    return flow, rows


def _to_grey(image: tf.Tensor) -> tf.Tensor:
    channels = image.shape[-1]
    if channels == 1:
        return image
    if channels == 3:
        return luminance(image)
    raise ValueError(f"images must have 1 or 3 channels for flow, got {image.shape}")


def _prepare(
    reference,
    moving,
    *,
    alpha,
    ratio,
    min_width,
    outer_iterations,
    inner_iterations,
    sor_iterations,
    gradient_constancy,
    omega,
    interpolation,
    jit_compile,
    median_filter,
) -> tuple[tf.Tensor, dict]:
    """(grey pair [B, H, W, 2], keyword arguments of `_coarse_to_fine`) after
    checking every argument."""
    if not 0.4 <= ratio <= 0.98:
        raise ValueError(f"ratio must be in [0.4, 0.98] (Liu's range), got {ratio}")
    if min_width < 1:
        raise ValueError(f"min_width must be >= 1, got {min_width}")
    for name, value in (
        ("outer_iterations", outer_iterations),
        ("inner_iterations", inner_iterations),
        ("sor_iterations", sor_iterations),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    _check_interpolation(interpolation)
    if int(median_filter) != median_filter or (
        median_filter > 1 and median_filter % 2 == 0
    ):
        raise ValueError(f"median_filter must be 0, 1 or odd, got {median_filter!r}")
    if alpha <= 0 or not 0 < omega < 2:
        raise ValueError(f"need alpha > 0 and 0 < omega < 2, got {alpha}, {omega}")
    reference = _as_image(reference, "reference")
    moving = _as_image(moving, "moving")
    if reference.shape[-1] != moving.shape[-1]:
        raise ValueError(
            f"reference {reference.shape} and moving {moving.shape} must have the "
            "same number of channels"
        )
    _check_same_grid(reference, moving, "reference", "moving")
    grey = tf.stop_gradient(tf.concat([_to_grey(reference), _to_grey(moving)], axis=-1))
    return grey, dict(
        alpha=float(alpha),
        ratio=float(ratio),
        min_width=float(min_width),
        outer=int(outer_iterations),
        inner=int(inner_iterations),
        sor=int(sor_iterations),
        omega=float(omega),
        gradient=bool(gradient_constancy),
        xla=bool(jit_compile),
        interpolation=interpolation,
        median=int(median_filter),
    )


def estimate_flow(
    reference,
    moving,
    alpha: float = FLOW_ALPHA,
    ratio: float = FLOW_RATIO,
    min_width: int = FLOW_MIN_WIDTH,
    outer_iterations: int = FLOW_OUTER_ITERATIONS,
    inner_iterations: int = FLOW_INNER_ITERATIONS,
    sor_iterations: int = FLOW_SOR_ITERATIONS,
    gradient_constancy: bool = True,
    omega: float = FLOW_SOR_OMEGA,
    interpolation: str = FLOW_WARP_INTERPOLATION,
    jit_compile: bool = FLOW_JIT_COMPILE,
    median_filter: int = FLOW_MEDIAN_FILTER,
) -> tf.Tensor:
    """Dense optical flow such that `warp(moving, flow)` matches `reference`.

    Ce Liu's coarse-to-fine variational method (see the module docstring) with the
    parameters of Kalantari's code by default (METHODS.md section 1).

    Args:
        reference, moving: float [B, H, W, C] in [0, 1], C = 3 (RGB, converted to
            grey with `hdr_keras.ops.color.luminance`) or 1; same shape.
        alpha: smoothness weight.
        ratio: pyramid downsampling ratio, in (0.4, 0.98) as Liu requires.
        min_width: the pyramid has floor(log(min_width / W) / log(ratio)) levels.
        outer_iterations, inner_iterations, sor_iterations: Liu's nOuterFPIterations,
            nInnerFPIterations, nSORIterations (the coarser levels get more:
            + level and + 3 * level).
        gradient_constancy: add Liu's gradient features to the data term.
        omega: SOR over-relaxation factor.
        interpolation: how the solver re-warps the moving frame: "bicubic"
            (default, more accurate) or "bilinear" (Liu's default).
        jit_compile: run the solver's warp and SOR as XLA programs compiled per
            size bucket (default; several times faster, each new bucket costs
            about a second of compilation once per process); False: TF ops only
            (for servers without XLA:CPU JIT). Same numbers up to rounding.
        median_filter: odd size of the median filter applied to the flow after
            each warping step (Sun, Roth & Black 2010; not in Liu's code); 0 or 1
            turns it off (Liu's behaviour).
    Returns:
        float32 [B, H, W, 2], (dy, dx) in pixels; no gradient flows through it.
    """
    grey, options = _prepare(
        reference,
        moving,
        alpha=alpha,
        ratio=ratio,
        min_width=min_width,
        outer_iterations=outer_iterations,
        inner_iterations=inner_iterations,
        sor_iterations=sor_iterations,
        gradient_constancy=gradient_constancy,
        omega=omega,
        interpolation=interpolation,
        jit_compile=jit_compile,
        median_filter=median_filter,
    )
    return _coarse_to_fine_graph(grey, **options)
