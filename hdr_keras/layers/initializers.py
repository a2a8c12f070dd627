"""Structured weight initialisers used by HDRCNN's decoder.

- `BilinearUpsampling`: a stride-2 transposed convolution that starts as bilinear
  upsampling, channel i -> channel i (Eilertsen et al. 2017, decoder deconvolutions).
- `AdditiveFusion`: a 1x1 convolution over concat(a, b) that starts as a + b, so a
  skip connection is initially an addition (Eilertsen et al. 2017, skip fusion).
"""

from __future__ import annotations

import numpy as np
import keras


def bilinear_kernel_1d(size: int) -> np.ndarray:
    """1-D bilinear interpolation taps for an upsampling filter of `size` taps."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    taps = np.arange(size, dtype=np.float64)
    return 1.0 - np.abs(taps - center) / factor


@keras.saving.register_keras_serializable(package="hdr_keras")
class BilinearUpsampling(keras.initializers.Initializer):
    """Initialises a `Conv2DTranspose` kernel [kh, kw, out, in] as bilinear upsampling.

    Output channel i copies input channel i for i < min(out, in); other entries are 0.
    Reference: Eilertsen et al., "HDR image reconstruction from a single exposure
    using deep CNNs", SIGGRAPH Asia 2017 (decoder initialisation).
    """

    def __call__(self, shape, dtype=None):
        kh, kw, out_channels, in_channels = shape
        kernel2d = np.outer(bilinear_kernel_1d(kh), bilinear_kernel_1d(kw))
        weights = np.zeros(shape, dtype=np.float32)
        for channel in range(min(out_channels, in_channels)):
            weights[:, :, channel, channel] = kernel2d
        return keras.ops.convert_to_tensor(weights, dtype=dtype or "float32")

    def get_config(self):
        return {}


@keras.saving.register_keras_serializable(package="hdr_keras")
class AdditiveFusion(keras.initializers.Initializer):
    """Initialises a 1x1 `Conv2D` kernel [1, 1, 2C, C] so that it computes a + b.

    The input is concat(a, b) along channels; the kernel is two stacked identities.
    """

    def __call__(self, shape, dtype=None):
        kh, kw, in_channels, out_channels = shape
        if (kh, kw) != (1, 1) or in_channels != 2 * out_channels:
            raise ValueError(
                "AdditiveFusion needs a 1x1 kernel from 2C to C channels, got shape "
                f"{tuple(shape)}"
            )
        eye = np.eye(out_channels, dtype=np.float32)
        weights = np.concatenate([eye, eye], axis=0)[None, None]
        return keras.ops.convert_to_tensor(weights, dtype=dtype or "float32")

    def get_config(self):
        return {}
