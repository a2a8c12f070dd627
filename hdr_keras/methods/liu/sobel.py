"""Sobel edge responses of every channel, as `tf.image.sobel_edges`."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

# Cross-correlation kernels of tf.image.sobel_edges: d/dy (rows), d/dx (columns).
SOBEL_DY = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32)
SOBEL_DX = SOBEL_DY.T.copy()


@keras.saving.register_keras_serializable(package="hdr_keras")
class SobelEdges(keras.layers.Layer):
    """Vertical and horizontal Sobel responses of each channel: C -> 2C channels.

    Output channel 2c is d/dy of input channel c, 2c + 1 its d/dx (the layout of
    `tf.image.sobel_edges(img)` [B, H, W, C, 2] reshaped to [B, H, W, 2C], as the
    official SingleHDR Linearization-Net does). Borders are reflect-padded by one
    pixel (as `tf.image.sobel_edges`), so a ramp of slope s along y gives 8 s inside
    and 0 on the first and last rows.
    Reference: Liu et al., CVPR 2020 (Linearization-Net edge features).
    """

    def call(self, images):
        channels = images.shape[-1]
        kernel = np.stack([SOBEL_DY, SOBEL_DX], axis=-1)[:, :, None, :]  # 3,3,1,2
        kernel = np.tile(kernel, (1, 1, channels, 1))
        padded = ops.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
        return ops.depthwise_conv(
            padded, ops.convert_to_tensor(kernel, dtype=images.dtype), padding="valid"
        )

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        return (*input_shape[:-1], None if channels is None else 2 * channels)
