"""Reflect padding of an exposure stack [B, N, H, W, C] by a fixed border.

Kalantari's network uses unpadded ("valid") convolutions and loses 6 pixels on
each side; its serving model reflect-pads the aligned stack by that border first,
so the output has the input's size.
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="hdr_keras")
class StackReflectPad(keras.layers.Layer):
    """Pads H and W of a stack [B, N, H, W, C] by `border` pixels (mode REFLECT).

    REFLECT does not repeat the edge pixel, so H and W must exceed `border`; a
    smaller stack fails with an InvalidArgument error naming the layer's input.

    Args:
        border: pixels added on each side of H and W (>= 0).
    """

    def __init__(self, border: int, **kwargs):
        super().__init__(**kwargs)
        if int(border) != border or border < 0:
            raise ValueError(f"border must be an integer >= 0, got {border!r}")
        self.border = int(border)

    def call(self, stack):
        if self.border == 0:
            return stack
        shape = tf.shape(stack)
        check = tf.debugging.Assert(
            tf.reduce_all(shape[2:4] > self.border),
            [
                f"ldr height and width must exceed {self.border} pixels (reflect "
                "padding of the unpadded Kalantari network), got",
                shape[2:4],
            ],
        )
        b = self.border
        with tf.control_dependencies([check]):
            return tf.pad(stack, [[0, 0], [0, 0], [b, b], [b, b], [0, 0]], "REFLECT")

    def compute_output_shape(self, input_shape):
        def padded(size):
            return None if size is None else size + 2 * self.border

        return (
            input_shape[0],
            input_shape[1],
            padded(input_shape[2]),
            padded(input_shape[3]),
            input_shape[4],
        )

    def get_config(self):
        config = super().get_config()
        config.update({"border": self.border})
        return config
