"""Kalantari & Ramamoorthi's weighted merge of an aligned exposure stack (WE, WIE).

The network predicts one blending weight per frame and colour channel, a_i in
[0, 1]; the HDR image is the normalised weighted sum of the frames mapped to linear
radiance, H = sum_i a_i * H_i / (sum_i a_i + eps), per channel (METHODS.md §1). The
images blended are the aligned input frames (WE) or refined images the network
predicts in the LDR domain (WIE); both are linearised as the network inputs are,
H_i = Z_i ** gamma / 2 ** ev_i (`hdr_keras.ops.stack.stack_features`).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from hdr_keras.constants import GAMMA
from hdr_keras.ops.crop import center_crop
from hdr_keras.ops.stack import stack_features

KALANTARI_BLEND_EPSILON = 1e-6  # the official code's denominator offset


def unfold_channels(folded, num_frames: int):
    """[B, H, W, 3N] (frame i in channels 3i..3i+2) -> [B, N, H, W, 3]."""
    shape = tf.shape(folded)
    frames = tf.reshape(folded, tf.stack([shape[0], shape[1], shape[2], num_frames, 3]))
    return tf.transpose(frames, [0, 3, 1, 2, 4])


@keras.saving.register_keras_serializable(package="hdr_keras")
class WeightBlending(keras.layers.Layer):
    """H = sum_i a_i * H_i / (sum_i a_i + epsilon), per pixel and colour channel.

    Called as `WeightBlending(num_frames)([weights, images, exposure])`:
    - `weights` [B, h, w, 3N]: a_i of frame i in channels 3i..3i+2 (R, G, B);
    - `images` LDR frames in [0, 1], either a stack [B, N, H, W, 3] (WE: the
      aligned inputs) or folded [B, H, W, 3N] like `weights` (WIE: the network's
      refined images). H >= h and W >= w: they are centre-cropped to h x w, which
      matches the unpadded ("valid") network whose output lost (H - h) / 2 pixels
      on each side;
    - `exposure` [B, N] biases in stops.
    Returns the linear HDR image [B, h, w, 3].

    Args:
        num_frames: frames N of the stack.
        gamma: exponent of the linearisation H_i = Z_i ** gamma / t_i (2.2).
        epsilon: denominator offset (1e-6, as the authors' code).
    Reference: Kalantari & Ramamoorthi, "Deep high dynamic range imaging of
    dynamic scenes", SIGGRAPH 2017, Sec. 3.2 (weight estimator, WE and WIE).
    """

    def __init__(
        self,
        num_frames: int = 3,
        gamma: float = GAMMA,
        epsilon: float = KALANTARI_BLEND_EPSILON,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(num_frames) != num_frames or num_frames < 1:
            raise ValueError(f"num_frames must be a positive integer, got {num_frames}")
        self.num_frames = int(num_frames)
        self.gamma = float(gamma)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        weights_shape, images_shape, _ = input_shape
        expected = 3 * self.num_frames
        if weights_shape[-1] is not None and weights_shape[-1] != expected:
            raise ValueError(
                f"WeightBlending weights must have 3 * num_frames = {expected} "
                f"channels, got shape {tuple(weights_shape)}"
            )
        if len(images_shape) == 4 and images_shape[-1] not in (None, expected):
            raise ValueError(
                f"WeightBlending folded images must have {expected} channels, got "
                f"shape {tuple(images_shape)}"
            )
        if len(images_shape) not in (4, 5):
            raise ValueError(
                "WeightBlending images must be [B, N, H, W, 3] or [B, H, W, 3N], got "
                f"shape {tuple(images_shape)}"
            )

    def call(self, inputs):
        weights, images, exposure = inputs
        if len(images.shape) == 4:
            images = unfold_channels(images, self.num_frames)
        shape = tf.shape(weights)
        images = center_crop(images, shape[1], shape[2])
        radiance = stack_features(images, exposure, self.gamma)[..., 3:]
        weights = unfold_channels(weights, self.num_frames)
        numerator = ops.sum(weights * radiance, axis=1)
        return numerator / (ops.sum(weights, axis=1) + self.epsilon)

    def compute_output_shape(self, input_shape):
        weights_shape = input_shape[0]
        return (*weights_shape[:-1], 3)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_frames": self.num_frames,
                "gamma": self.gamma,
                "epsilon": self.epsilon,
            }
        )
        return config
