"""Soft (triangular-kernel) histogram features of an image, per pixel."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hdr_keras")
class SoftHistogram(keras.layers.Layer):
    """Per-pixel soft membership of each value in `bins + 1` histogram bins.

    Bin i (i = 0..bins) is centred at c_i = i / bins; a value x in [0, 1] belongs
    to it with the tent weight t_i(x) = relu(1 - |x - c_i| * bins), i.e. linear
    interpolation between the two nearest centres. This is SingleHDR's
    `histogram_layer(img, max_bin)` (official Linearization-Net, which counts
    `max_bin + 1` centres): bins 4, 8 and 16 give (5 + 9 + 17) x 3 = 93 channels
    for an RGB image.

    Output channels are bin-major: [bin 0: c_0..c_{C-1}, bin 1: ..., bin `bins`],
    as the official `tf.concat` over bins. Inputs are clipped to [0, 1] first (the
    network's input already lies there); the weights of each pixel and channel
    sum to 1 over the bins and lie in [0, 1].

    `softness` s in (0, 1] sharpens the assignment: w_i = t_i^(1/s) / sum_j
    t_j^(1/s). s = 1 (default) is exactly the official tent; as s -> 0 the weights
    tend to a one-hot vector of the nearest centre, i.e. a hard histogram with
    bins [c_i - 1/(2 bins), c_i + 1/(2 bins)).

    Args:
        bins: number of intervals between the centres (official: 4, 8, 16).
        softness: sharpness exponent s in (0, 1].
    Reference: Liu et al., "Single-Image HDR Reconstruction by Learning to Reverse
    the Camera Pipeline", CVPR 2020 (Linearization-Net input features).
    """

    def __init__(self, bins: int, softness: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if int(bins) < 1:
            raise ValueError(f"SoftHistogram bins must be >= 1, got {bins}")
        if not 0.0 < float(softness) <= 1.0:
            raise ValueError(
                f"SoftHistogram softness must be in (0, 1], got {softness}"
            )
        self.bins = int(bins)
        self.softness = float(softness)

    def call(self, images):
        x = ops.clip(images, 0.0, 1.0)
        centres = ops.arange(self.bins + 1, dtype=x.dtype) / float(self.bins)
        # [B, H, W, bins + 1, C]
        distance = ops.abs(ops.expand_dims(x, -2) - ops.reshape(centres, (-1, 1)))
        tents = ops.relu(1.0 - distance * float(self.bins))
        if self.softness < 1.0:
            peak = ops.max(tents, axis=-2, keepdims=True)
            sharpened = ops.power(tents / peak, 1.0 / self.softness)
            tents = sharpened / ops.sum(sharpened, axis=-2, keepdims=True)
        shape = ops.shape(images)
        return ops.reshape(
            tents, (shape[0], shape[1], shape[2], (self.bins + 1) * shape[3])
        )

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        return (
            *input_shape[:-1],
            None if channels is None else (self.bins + 1) * channels,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"bins": self.bins, "softness": self.softness})
        return config
