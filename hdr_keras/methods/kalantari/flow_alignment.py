"""`FlowAlignment`: Kalantari's optical-flow alignment of an exposure stack, as a layer.

Wraps `hdr_keras.ops.alignment.align_stack` so that a model (and its SavedModel export)
can take raw, unaligned brackets. No trainable weights; the flow is a constant for
the gradient (the warp of the frames stays differentiable).
"""

from __future__ import annotations

import keras

from hdr_keras.constants import (
    FLOW_ALPHA,
    FLOW_INNER_ITERATIONS,
    FLOW_JIT_COMPILE,
    FLOW_MEDIAN_FILTER,
    FLOW_MIN_WIDTH,
    FLOW_OUTER_ITERATIONS,
    FLOW_RATIO,
    FLOW_SOR_ITERATIONS,
)
from hdr_keras.ops.alignment import align_stack


@keras.saving.register_keras_serializable(package="hdr_keras")
class FlowAlignment(keras.layers.Layer):
    """Aligns every frame of an exposure stack to the reference frame with optical flow.

    Called as `FlowAlignment()([ldr, exposure])` with `ldr` [B, N, H, W, 3]
    display-referred in [0, 1] and `exposure` [B, N] biases in stops. For each
    non-reference frame the darker of (frame, reference) is re-exposed to the
    brighter one's exposure, Ce Liu's coarse-to-fine flow reference <- frame is
    estimated, and the frame is warped with bicubic interpolation; pixels whose flow
    leaves the frame are filled from the reference re-exposed to the frame's
    exposure. Returns the aligned stack [B, N, H, W, 3] (the reference unchanged),
    or `(aligned, valid)` with `valid` [B, N, H, W, 1] (0 on filled pixels) when
    `return_mask`.

    Args:
        reference: index of the reference frame; None = the middle one (N // 2).
        alpha, ratio, min_width, outer_iterations, inner_iterations,
            sor_iterations: Liu's flow parameters (defaults: Kalantari's, METHODS.md
            section 1); see `hdr_keras.ops.flow.estimate_flow`.
        gradient_constancy: include Liu's gradient features in the data term.
        median_filter: median filter size applied to the flow after each warp
            (0: off, Liu's behaviour).
        jit_compile: run the flow solver's warp and SOR as XLA programs (default,
            several times faster; see `estimate_flow`); False: TF ops only, for a
            TF Serving binary started without `--xla_cpu_compilation_enabled`.
        return_mask: also return the validity mask.
    Reference: Kalantari & Ramamoorthi, "Deep High Dynamic Range Imaging of
    Dynamic Scenes", SIGGRAPH 2017, Sec. 3.1.
    """

    # Read by hdr_keras.export (jit_compile): XLA cannot compile this layer as part
    # of one program, but it runs XLA programs of its own (`internal_xla`).
    NOT_XLA_COMPILABLE = (
        "its optical flow (Ce Liu's coarse-to-fine solver) runs while loops whose "
        "tensors change shape from one pyramid level to the next and collects "
        "levels in TensorArrays; XLA needs static shapes inside one program (the "
        "layer compiles the flow's warp and SOR itself, per size bucket, when its "
        "jit_compile is on)"
    )

    def __init__(
        self,
        reference: int | None = None,
        alpha: float = FLOW_ALPHA,
        ratio: float = FLOW_RATIO,
        min_width: int = FLOW_MIN_WIDTH,
        outer_iterations: int = FLOW_OUTER_ITERATIONS,
        inner_iterations: int = FLOW_INNER_ITERATIONS,
        sor_iterations: int = FLOW_SOR_ITERATIONS,
        gradient_constancy: bool = True,
        median_filter: int = FLOW_MEDIAN_FILTER,
        jit_compile: bool = FLOW_JIT_COMPILE,
        return_mask: bool = False,
        **kwargs,
    ):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.reference = None if reference is None else int(reference)
        self.alpha = float(alpha)
        self.ratio = float(ratio)
        self.min_width = int(min_width)
        self.outer_iterations = int(outer_iterations)
        self.inner_iterations = int(inner_iterations)
        self.sor_iterations = int(sor_iterations)
        self.gradient_constancy = bool(gradient_constancy)
        self.median_filter = int(median_filter)
        self.jit_compile = bool(jit_compile)
        self.return_mask = bool(return_mask)

    @property
    def internal_xla(self) -> bool:
        """Whether the flow runs its own XLA programs (the `jit_compile` option);
        settable (hdr_keras.export turns it off for graphs without XLA)."""
        return self.jit_compile

    @internal_xla.setter
    def internal_xla(self, value: bool) -> None:
        self.jit_compile = bool(value)

    def flow_params(self) -> dict:
        """Keyword arguments of `estimate_flow` held by this layer."""
        return {
            "alpha": self.alpha,
            "ratio": self.ratio,
            "min_width": self.min_width,
            "outer_iterations": self.outer_iterations,
            "inner_iterations": self.inner_iterations,
            "sor_iterations": self.sor_iterations,
            "gradient_constancy": self.gradient_constancy,
            "median_filter": self.median_filter,
            "jit_compile": self.jit_compile,
        }

    def call(self, inputs):
        ldr, exposure = inputs
        aligned, valid = align_stack(
            ldr, exposure, reference=self.reference, **self.flow_params()
        )
        return (aligned, valid) if self.return_mask else aligned

    def compute_output_shape(self, input_shape):
        ldr_shape = tuple(input_shape[0])
        if self.return_mask:
            return ldr_shape, (*ldr_shape[:-1], 1)
        return ldr_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "reference": self.reference,
                **self.flow_params(),
                "return_mask": self.return_mask,
            }
        )
        return config
