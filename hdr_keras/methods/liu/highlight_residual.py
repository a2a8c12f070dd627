"""SingleHDR's hallucination output: a positive residual added near saturation."""

from __future__ import annotations

import keras
from keras import ops

from hdr_keras.methods.liu.constants import LIU_TAU
from hdr_keras.ops.highlight import highlight_mask


@keras.saving.register_keras_serializable(package="hdr_keras")
class HighlightResidual(keras.layers.Layer):
    """A = B + alpha * relu(y), alpha = clip((max_c B - tau) / (1 - tau), 0, 1).

    Called as `HighlightResidual()([linear, residual])`: `linear` is the linearised
    image B in [0, 1], `residual` the Hallucination-Net output y; the residual is
    made positive (ReLU) and added only where B approaches saturation.

    Args:
        tau: threshold where the mask starts: 0.88 in the official code (its
            `thr = 0.12`, the default here), 0.95 in the paper (LIU_TAU_PAPER).
    Reference: Liu et al., CVPR 2020, Sec. 3.3 (Hallucination-Net).
    """

    def __init__(self, tau: float = LIU_TAU, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(tau) < 1.0:
            raise ValueError(f"HighlightResidual tau must be in [0, 1), got {tau}")
        self.tau = float(tau)

    def call(self, inputs):
        linear, residual = inputs
        return linear + highlight_mask(linear, self.tau) * ops.relu(residual)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"tau": self.tau})
        return config
