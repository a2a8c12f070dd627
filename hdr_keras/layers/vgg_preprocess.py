"""Caffe-style VGG16 input normalisation as a layer."""

from __future__ import annotations

import keras
from keras import ops

from hdr_keras.constants import VGG_MEAN_BGR


@keras.saving.register_keras_serializable(package="hdr_keras")
class VGGPreprocess(keras.layers.Layer):
    """RGB in [0, 1] -> BGR in [0, 255] minus the ImageNet channel means.

    This is the input convention of the original (Caffe) VGG16 weights, which the
    Keras VGG16 weights and HDRCNN's encoder both use. The channel reversal here is
    the network's weight convention, not a file-format conversion (that happens
    once, in `hdr_keras.io`).
    """

    def call(self, rgb):
        bgr = ops.flip(rgb, axis=-1) * 255.0
        return bgr - ops.convert_to_tensor(VGG_MEAN_BGR, dtype=bgr.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape
