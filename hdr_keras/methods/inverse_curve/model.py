"""The single-image baseline: only invert the assumed camera curve, H = x ** 2.

HDRCNN's linearisation (`hdr_keras.ops.highlight.linearize_hdrcnn`, the authors'
f^-1(x) = x ** 2) without any hallucinated highlights: saturated pixels stay at 1.
It is the "inverse camera curve only" baseline of the single-image evaluation.
"""

from __future__ import annotations

import keras

from hdr_keras.constants import HDRCNN_INVERSE_CURVE_EXPONENT
from hdr_keras.ops.highlight import linearize_hdrcnn

STRIDE = 1  # per pixel


@keras.saving.register_keras_serializable(package="hdr_keras")
class InverseCurve(keras.layers.Layer):
    """Linear radiance x ** exponent of display-referred LDR x in [0, 1] (clipped).

    Args:
        exponent: exponent of the inverse camera curve (2, HDRCNN's code).
    Reference: Eilertsen et al., SIGGRAPH Asia 2017 (f^-1 of the skip connections).
    """

    def __init__(self, exponent: float = HDRCNN_INVERSE_CURVE_EXPONENT, **kwargs):
        super().__init__(**kwargs)
        self.exponent = float(exponent)

    def call(self, ldr):
        return linearize_hdrcnn(ldr, self.exponent)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"exponent": self.exponent})
        return config


def build_inverse_curve(
    exponent: float = HDRCNN_INVERSE_CURVE_EXPONENT, name: str = "inverse_curve"
) -> keras.Model:
    """The `inverse_curve` method: `ldr` [B, H, W, 3] -> linear HDR x ** exponent."""
    ldr = keras.Input((None, None, 3), name="ldr")
    hdr = InverseCurve(exponent, name="inverse_curve")(ldr)
    return keras.Model(ldr, hdr, name=name)
