"""The mu-law tonemapper (or its inverse) as a layer."""

from __future__ import annotations

import keras

from hdr_keras.constants import MU
from hdr_keras.ops.tonemap import inverse_mu_law, mu_law


@keras.saving.register_keras_serializable(package="hdr_keras")
class MuLaw(keras.layers.Layer):
    """T(H) = log(1 + mu H) / log(1 + mu), or its inverse when `inverse` is True.

    Forward: linear HDR in [0, 1] -> mu-law domain [0, 1]; inverse: mu-law domain
    -> linear HDR (see `hdr_keras.ops.tonemap`).

    Args:
        mu: compression parameter (5000).
        inverse: apply inverse_mu_law instead of mu_law.
    Reference: Kalantari & Ramamoorthi, SIGGRAPH 2017, Eq. 3.
    """

    def __init__(self, mu: float = MU, inverse: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.mu = float(mu)
        self.inverse = bool(inverse)

    def call(self, inputs):
        if self.inverse:
            return inverse_mu_law(inputs, self.mu)
        return mu_law(inputs, self.mu)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"mu": self.mu, "inverse": self.inverse})
        return config
