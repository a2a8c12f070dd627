"""HDRCNN's output blend: keep the linearised input where it is well exposed."""

from __future__ import annotations

import keras

from hdr_keras.constants import HDRCNN_EPS, HDRCNN_INVERSE_CURVE_EXPONENT, HDRCNN_TAU
from hdr_keras.ops.highlight import from_log_hdr, highlight_mask, linearize_hdrcnn


@keras.saving.register_keras_serializable(package="hdr_keras")
class HighlightBlend(keras.layers.Layer):
    """H = (1 - alpha) f^-1(D) + alpha (exp(y) - eps), alpha = clip((max_c D - tau)/(1 - tau)).

    Called as `HighlightBlend()([ldr, log_hdr])` with `ldr` display-referred in [0, 1]
    and `log_hdr` the network's log-radiance prediction; returns linear radiance.

    Args:
        tau: saturation threshold where blending starts (0.95 in the paper).
        exponent: exponent of the assumed inverse camera curve f^-1(x) = x ** exponent.
        eps: offset of the log domain.
    Reference: Eilertsen et al., SIGGRAPH Asia 2017, Eq. 1-2.
    """

    def __init__(
        self,
        tau: float = HDRCNN_TAU,
        exponent: float = HDRCNN_INVERSE_CURVE_EXPONENT,
        eps: float = HDRCNN_EPS,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.tau = float(tau)
        self.exponent = float(exponent)
        self.eps = float(eps)

    def call(self, inputs):
        ldr, log_hdr = inputs
        alpha = highlight_mask(ldr, self.tau)
        linearised = linearize_hdrcnn(ldr, self.exponent)
        return (1.0 - alpha) * linearised + alpha * from_log_hdr(log_hdr, self.eps)

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        config = super().get_config()
        config.update({"tau": self.tau, "exponent": self.exponent, "eps": self.eps})
        return config
