"""Pad an image batch to a multiple of the network stride, and crop back.

Fully convolutional encoder-decoders with k pooling stages need H and W divisible
by 2**k. `PadToMultiple` pads symmetrically (mirror, edge pixel repeated) and
centred; `CropToMatch` removes the same padding given the unpadded reference.
`stride_padding` is the one definition of that split, shared with the tiled
inference (`hdr_keras.inference.tiling`), which cuts its tiles from the image padded
exactly as the network pads it.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def stride_padding(size, multiple: int):
    """(before, after) padding that brings `size` to the next multiple of `multiple`.

    Centred, the smaller half first. `size` is a Python int or a scalar integer
    tensor (e.g. `tf.shape(x)[1]`); the result has the same type.
    """
    total = (multiple - size % multiple) % multiple
    before = total // 2
    return before, total - before


@keras.saving.register_keras_serializable(package="hdr_keras")
class PadToMultiple(keras.layers.Layer):
    """Pads [B, H, W, C] so that H and W are multiples of `multiple`.

    Args:
        multiple: stride multiple, e.g. 32 for VGG16's five poolings.
    Padding is symmetric (mirror including the edge pixel), split evenly between
    both sides, so each side gets at most multiple/2 pixels; the image must be at
    least that large. The padded size is dynamic: any H and W work.
    """

    def __init__(self, multiple: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, images):
        shape = tf.shape(images)
        top, bottom = stride_padding(shape[1], self.multiple)
        left, right = stride_padding(shape[2], self.multiple)
        paddings = [[0, 0], [top, bottom], [left, right], [0, 0]]
        return tf.pad(images, paddings, mode="SYMMETRIC")

    def compute_output_shape(self, input_shape):
        def padded(size):
            if size is None:
                return None
            return size + (self.multiple - size % self.multiple) % self.multiple

        return (
            input_shape[0],
            padded(input_shape[1]),
            padded(input_shape[2]),
            input_shape[3],
        )

    def get_config(self):
        config = super().get_config()
        config.update({"multiple": self.multiple})
        return config


@keras.saving.register_keras_serializable(package="hdr_keras")
class CropToMatch(keras.layers.Layer):
    """Crops a padded tensor back to the spatial size of the unpadded reference.

    Called as `CropToMatch(multiple)([padded, reference])`; removes exactly what
    `PadToMultiple(multiple)` added to `reference`.

    Args:
        multiple: the same multiple given to `PadToMultiple`.
    """

    def __init__(self, multiple: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, inputs):
        padded, reference = inputs
        shape = tf.shape(reference)
        height, width = shape[1], shape[2]
        top, _ = stride_padding(height, self.multiple)
        left, _ = stride_padding(width, self.multiple)
        return padded[:, top : top + height, left : left + width, :]

    def compute_output_shape(self, input_shape):
        padded_shape, reference_shape = input_shape
        return (
            padded_shape[0],
            reference_shape[1],
            reference_shape[2],
            padded_shape[3],
        )

    def get_config(self):
        config = super().get_config()
        config.update({"multiple": self.multiple})
        return config
