"""Geometric augmentation for tf.data, stateless and seeded per element.

Every function takes a `seed` tensor of shape [2] (int32/int64) and applies the same
transform to all channels of its input, so frames and targets stacked along the last
axis stay aligned.
"""

from __future__ import annotations

import tensorflow as tf


def random_crop_resize(
    image: tf.Tensor,
    seed: tf.Tensor,
    size: int,
    fraction: tuple[float, float] = (0.2, 0.6),
) -> tf.Tensor:
    """Square crop whose side is a random fraction of the shorter side, resized to size.

    HDRCNN's virtual camera crops 20-60 % of the image and resizes to 320 x 320.
    Resizing is bilinear with antialiasing, which preserves the mean radiance.
    """
    seeds = tf.random.experimental.stateless_split(seed, 3)
    shape = tf.shape(image)
    shorter = tf.minimum(shape[0], shape[1])
    frac = tf.random.stateless_uniform([], seeds[0], fraction[0], fraction[1])
    side = tf.maximum(tf.cast(tf.cast(shorter, tf.float32) * frac, tf.int32), 1)
    top = tf.random.stateless_uniform([], seeds[1], 0, shape[0] - side + 1, tf.int32)
    left = tf.random.stateless_uniform([], seeds[2], 0, shape[1] - side + 1, tf.int32)
    crop = image[top : top + side, left : left + side, :]
    return tf.image.resize(crop, [size, size], method="bilinear", antialias=True)


def random_crop(image: tf.Tensor, seed: tf.Tensor, size: int) -> tf.Tensor:
    """Random size x size crop (no resampling); the image must be at least that large."""
    channels = tf.shape(image)[-1]
    return tf.image.stateless_random_crop(image, tf.stack([size, size, channels]), seed)


def random_flip_rotate(image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """One of the 8 dihedral transforms (flip left-right, then 0-3 quarter turns)."""
    seeds = tf.random.experimental.stateless_split(seed, 2)
    image = tf.image.stateless_random_flip_left_right(image, seeds[0])
    turns = tf.random.stateless_uniform([], seeds[1], 0, 4, tf.int32)
    return tf.image.rot90(image, turns)
