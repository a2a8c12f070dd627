"""AHDRNet's attention module: weights a non-reference frame's features per pixel."""

from __future__ import annotations

import keras
from keras import ops

AHDRNET_LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU() default, used by the authors' code


def _fresh(initializer):
    """A new instance of `initializer`, so that sub-layers draw different weights."""
    return keras.initializers.get(keras.initializers.serialize(initializer))


@keras.saving.register_keras_serializable(package="hdr_keras")
class AttentionModule(keras.layers.Layer):
    """F_i' = F_i * sigmoid(conv(leaky_relu(conv(concat(F_i, F_ref))))).

    Called as `AttentionModule(features)([f_i, f_ref])` with two feature maps
    [B, H, W, features]; returns the attended f_i, same shape. The first 3x3
    convolution keeps the 2 * features channels of the concatenation, the second
    maps them to `features` attention logits (one weight per pixel and channel).

    Args:
        features: channels of each input feature map (64 in the paper).
        kernel_size: size of both convolutions (3).
        negative_slope: slope of the LeakyReLU between them (0.01).
        kernel_initializer: initializer of the convolution kernels.
        bias_initializer: initializer of the convolution biases.
    Reference: Yan et al., "Attention-guided Network for Ghost-free High Dynamic
    Range Imaging", CVPR 2019, Sec. 3.2 (attention network).
    """

    def __init__(
        self,
        features: int = 64,
        kernel_size: int = 3,
        negative_slope: float = AHDRNET_LEAKY_SLOPE,
        kernel_initializer="he_normal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.features = int(features)
        self.kernel_size = int(kernel_size)
        self.negative_slope = float(negative_slope)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.hidden_conv = self._conv(2 * self.features, "hidden_conv")
        self.logits_conv = self._conv(self.features, "logits_conv")

    def _conv(self, filters: int, name: str) -> keras.layers.Conv2D:
        return keras.layers.Conv2D(
            filters,
            self.kernel_size,
            padding="same",
            kernel_initializer=_fresh(self.kernel_initializer),
            bias_initializer=_fresh(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        frame_shape, reference_shape = input_shape
        concat_shape = (*frame_shape[:-1], frame_shape[-1] + reference_shape[-1])
        self.hidden_conv.build(concat_shape)
        self.logits_conv.build((*frame_shape[:-1], 2 * self.features))
        self.built = True

    def attention(self, inputs):
        """The attention map A_i in (0, 1), [B, H, W, features]."""
        frame, reference = inputs
        hidden = self.hidden_conv(ops.concatenate([frame, reference], axis=-1))
        hidden = ops.leaky_relu(hidden, negative_slope=self.negative_slope)
        return ops.sigmoid(self.logits_conv(hidden))

    def call(self, inputs):
        return inputs[0] * self.attention(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "features": self.features,
                "kernel_size": self.kernel_size,
                "negative_slope": self.negative_slope,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
