"""HDRCNN's skip-connection domain transform, from LDR encoder to log-HDR decoder."""

from __future__ import annotations

import keras
from keras import ops

from hdr_keras.constants import HDRCNN_EPS, HDRCNN_INVERSE_CURVE_EXPONENT


@keras.saving.register_keras_serializable(package="hdr_keras")
class LogDomainTransform(keras.layers.Layer):
    """Maps display-referred activations to the log-HDR domain: log((s x)^n + eps).

    With the defaults this is log(f^-1(x / 255) + eps), f^-1(v) = v ** 2, applied to
    encoder activations in the [0, 255] pixel scale (Eilertsen et al. 2017, Sec. 3.2).

    Args:
        scale: multiplies the input first (1/255 for VGG activations, 1 for [0, 1]).
        exponent: exponent of the assumed inverse camera curve.
        eps: offset inside the logarithm.
    """

    def __init__(
        self,
        scale: float = 1.0 / 255.0,
        exponent: float = HDRCNN_INVERSE_CURVE_EXPONENT,
        eps: float = HDRCNN_EPS,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.exponent = float(exponent)
        self.eps = float(eps)

    def call(self, activations):
        linear = ops.power(ops.maximum(activations * self.scale, 0.0), self.exponent)
        return ops.log(linear + self.eps)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "exponent": self.exponent, "eps": self.eps})
        return config
