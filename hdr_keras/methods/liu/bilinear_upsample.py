"""x2 bilinear upsampling with TF1's `resize_bilinear` sampling, export-safe."""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="hdr_keras")
class BilinearUpsample2x(keras.layers.Layer):
    """Doubles H and W by bilinear interpolation.

    `half_pixel_centers=False` (default) samples as TF1's
    `tf.image.resize_bilinear(x, 2 * size)` that SingleHDR's U-Nets use: output
    pixel i reads input position i / 2 (even pixels copy the input, odd ones average
    two neighbours, the last row/column repeats the edge). True gives TF2's
    `tf.image.resize` convention. A layer around the TF op rather than
    `UpSampling2D(interpolation="bilinear")`, which Keras 3.14-3.15 cannot export
    with dynamic sizes (DESIGN.md).

    Args:
        half_pixel_centers: sampling convention (see above).
    """

    def __init__(self, half_pixel_centers: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.half_pixel_centers = bool(half_pixel_centers)

    def call(self, images):
        size = 2 * tf.shape(images)[1:3]
        resized = tf.raw_ops.ResizeBilinear(
            images=images,
            size=size,
            align_corners=False,
            half_pixel_centers=self.half_pixel_centers,
        )
        return tf.cast(resized, images.dtype)

    def compute_output_shape(self, input_shape):
        def double(size):
            return None if size is None else 2 * size

        return (
            input_shape[0],
            double(input_shape[1]),
            double(input_shape[2]),
            input_shape[3],
        )

    def get_config(self):
        config = super().get_config()
        config.update({"half_pixel_centers": self.half_pixel_centers})
        return config
