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


def fold_frames(frames: tf.Tensor) -> tf.Tensor:
    """[N, H, W, C] -> [H, W, N * C]: frame i occupies channels i*C .. i*C + C - 1."""
    shape = tf.shape(frames)
    folded = tf.transpose(frames, [1, 2, 0, 3])
    return tf.reshape(folded, tf.stack([shape[1], shape[2], shape[0] * shape[3]]))


def unfold_frames(folded: tf.Tensor, channels: int = 3) -> tf.Tensor:
    """Inverse of `fold_frames`: [H, W, N * C] -> [N, H, W, C]."""
    shape = tf.shape(folded)
    frames = tf.reshape(folded, tf.stack([shape[0], shape[1], -1, channels]))
    return tf.transpose(frames, [2, 0, 1, 3])


def random_crop_flip_stack(
    frames: tf.Tensor, target: tf.Tensor, seed: tf.Tensor, size: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """The same random size x size crop and dihedral transform on every frame and
    the target (a stack [N, H, W, 3] and its [H, W, 3] label, both at least size
    pixels on each side) -> ([N, size, size, 3], [size, size, 3])."""
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    channels = target.shape[-1] or 3
    both = tf.concat([fold_frames(frames), target], axis=-1)
    both = random_flip_rotate(random_crop(both, crop_seed, size), flip_seed)
    patch_frames = unfold_frames(both[..., :-channels], channels)
    patch_target = both[..., -channels:]
    patch_frames.set_shape([frames.shape[0], size, size, channels])
    patch_target.set_shape([size, size, channels])
    return patch_frames, patch_target


# ------------------------------------------- Kalantari: 8 geometric x 6 colour orders
# The 6 orders of the RGB channels; Kalantari & Ramamoorthi 2017 augment every
# training patch with one of them and one of the 8 dihedral transforms (48 in all).
CHANNEL_PERMUTATIONS = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))
NUM_GEOMETRIC = 8
NUM_STACK_TRANSFORMS = NUM_GEOMETRIC * len(CHANNEL_PERMUTATIONS)


def dihedral_transform(image: tf.Tensor, index: tf.Tensor) -> tf.Tensor:
    """Dihedral transform `index` in [0, 8) of [H, W, C]: a left-right flip when
    index >= 4, then index % 4 quarter turns (counter-clockwise)."""
    index = tf.convert_to_tensor(index, tf.int32)
    flipped = tf.cond(
        index >= 4, lambda: tf.image.flip_left_right(image), lambda: image
    )
    return tf.image.rot90(flipped, index % 4)


def permute_channels(image: tf.Tensor, index: tf.Tensor) -> tf.Tensor:
    """RGB order `index` in [0, 6) of `CHANNEL_PERMUTATIONS` on [..., 3]."""
    orders = tf.constant(CHANNEL_PERMUTATIONS, tf.int32)
    return tf.gather(image, orders[index], axis=-1)


def transform_stack(
    frames: tf.Tensor, target: tf.Tensor, index: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """Transform `index` in [0, 48) of a stack [N, H, W, 3] and its target [H, W, 3]:
    dihedral transform index % 8 and channel order index // 8, the same on every
    frame and on the target."""
    index = tf.convert_to_tensor(index, tf.int32)
    frames = permute_channels(frames, index // NUM_GEOMETRIC)
    target = permute_channels(target, index // NUM_GEOMETRIC)
    channels = target.shape[-1] or 3
    both = tf.concat([fold_frames(frames), target], axis=-1)
    both = dihedral_transform(both, index % NUM_GEOMETRIC)
    return unfold_frames(both[..., :-channels], channels), both[..., -channels:]


def random_transform_stack(
    frames: tf.Tensor, target: tf.Tensor, seed: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """One of the 48 `transform_stack` transforms, drawn uniformly (stateless)."""
    index = tf.random.stateless_uniform([], seed, 0, NUM_STACK_TRANSFORMS, tf.int32)
    return transform_stack(frames, target, index)
