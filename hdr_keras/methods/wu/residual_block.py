"""Residual block of Wu et al.'s ResNet merger (reflect-padded, batch-normalised)."""

from __future__ import annotations

import keras
from keras import ops

from hdr_keras.layers.reflect_conv import ReflectConv2D


def _fresh(initializer):
    """A new instance of `initializer`, so that sub-layers draw different weights."""
    return keras.initializers.get(keras.initializers.serialize(initializer))


@keras.saving.register_keras_serializable(package="hdr_keras")
class ResidualBlock(keras.layers.Layer):
    """x = relu(input); return x + BN(conv(relu(BN(conv(x))))).

    Both convolutions are `kernel_size` x `kernel_size`, stride 1, reflect-padded,
    with `filters` channels (= the input's). The leading ReLU belongs to the block,
    as in the authors' code (each block is called on relu(previous output) and adds
    its result to that rectified input).

    Args:
        filters: channels of the input, both convolutions and the output.
        kernel_size: convolution size (3).
        momentum: batch-normalisation moving-average momentum (0.9, TF decay).
        epsilon: batch-normalisation epsilon (1e-5).
        kernel_initializer: initializer of the convolution kernels.
        bias_initializer: initializer of the convolution biases.
    Reference: Wu et al., "Deep High Dynamic Range Imaging with Large Foreground
    Motions", ECCV 2018 (after Johnson et al.'s residual blocks).
    """

    def __init__(
        self,
        filters: int = 256,
        kernel_size: int = 3,
        momentum: float = 0.9,
        epsilon: float = 1e-5,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.conv1 = self._conv("conv1")
        self.bn1 = self._batch_norm("bn1")
        self.conv2 = self._conv("conv2")
        self.bn2 = self._batch_norm("bn2")

    def _conv(self, name: str) -> ReflectConv2D:
        return ReflectConv2D(
            self.filters,
            self.kernel_size,
            kernel_initializer=_fresh(self.kernel_initializer),
            bias_initializer=_fresh(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def _batch_norm(self, name: str) -> keras.layers.BatchNormalization:
        return keras.layers.BatchNormalization(
            momentum=self.momentum,
            epsilon=self.epsilon,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        shape = (*input_shape[:-1], self.filters)
        for layer in (self.conv1, self.bn1, self.conv2, self.bn2):
            layer.build(shape)
        self.built = True

    def call(self, inputs, training=None):
        x = ops.relu(inputs)
        y = ops.relu(self.bn1(self.conv1(x), training=training))
        return x + self.bn2(self.conv2(y), training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
