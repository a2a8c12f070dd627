"""Convolution with reflect padding, sized like TensorFlow's "SAME" padding."""

from __future__ import annotations

import keras
import tensorflow as tf


def same_padding(size, kernel_size: int, stride: int):
    """(before, after) padding of TF "SAME" for one spatial dimension.

    total = max(k - s, 0) when size % s == 0, else max(k - size % s, 0); the extra
    pixel of an odd total goes after (as in Wu et al.'s `conv2d`). `size` may be a
    tensor (dynamic shape).
    """
    remainder = size % stride
    total = tf.where(
        tf.equal(remainder, 0),
        max(kernel_size - stride, 0),
        tf.maximum(kernel_size - remainder, 0),
    )
    before = total // 2
    return before, total - before


@keras.saving.register_keras_serializable(package="hdr_keras")
class ReflectConv2D(keras.layers.Layer):
    """Conv2D that reflect-pads its input to TF "SAME" output size, then convolves.

    Output size is ceil(input / strides), as with padding="same", but the border is
    filled by mirroring (without repeating the edge pixel) instead of zeros. The
    input must be larger than the padding (e.g. at least 3x3 for a 5x5 kernel).

    Args:
        filters: output channels.
        kernel_size: square kernel size.
        strides: stride of both spatial dimensions.
        kernel_initializer: initializer of the kernel.
        bias_initializer: initializer of the bias.
    Reference: Wu et al., "Deep High Dynamic Range Imaging with Large Foreground
    Motions", ECCV 2018 (the authors' TensorFlow `conv2d` with padding='REFLECT').
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int = 5,
        strides: int = 1,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.strides = int(strides)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.conv = keras.layers.Conv2D(
            self.filters,
            self.kernel_size,
            strides=self.strides,
            padding="valid",
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name="conv",
        )

    def build(self, input_shape):
        self.conv.build((input_shape[0], None, None, input_shape[-1]))
        self.built = True

    def call(self, inputs):
        shape = tf.shape(inputs)
        top, bottom = same_padding(shape[1], self.kernel_size, self.strides)
        left, right = same_padding(shape[2], self.kernel_size, self.strides)
        paddings = [[0, 0], [top, bottom], [left, right], [0, 0]]
        return self.conv(tf.pad(inputs, paddings, mode="REFLECT"))

    def compute_output_shape(self, input_shape):
        def output(size):
            return None if size is None else -(-size // self.strides)

        return (
            input_shape[0],
            output(input_shape[1]),
            output(input_shape[2]),
            self.filters,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
