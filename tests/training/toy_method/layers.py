"""The toy method's own serialisable layer (registered under its own package)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="toy_method")
class Gain(keras.layers.Layer):
    """x * exp(log_gain), one trainable scalar.

    Args:
        initial: initial value of log_gain.
    """

    def __init__(self, initial: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.initial = float(initial)

    def build(self, input_shape):
        self.log_gain = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.initial),
            name="log_gain",
        )

    def call(self, inputs):
        return inputs * ops.exp(self.log_gain)

    def get_config(self):
        config = super().get_config()
        config.update({"initial": self.initial})
        return config
