"""Exposure fusion, Mertens, Kautz & Van Reeth 2007: a display image, not radiance.

Each frame gets a per-pixel weight
    W = C ** w_c * S ** w_s * E ** w_e + 1e-12,
normalised over the frames, with
- contrast C: |3x3 Laplacian| of the frame's grey level (0.299 R + 0.587 G + 0.114 B);
- saturation S: standard deviation of R, G, B (the paper; OpenCV uses
  sqrt(sum of squared deviations), sqrt(3) times larger, which the normalisation
  cancels up to the 1e-12);
- well-exposedness E: prod_c exp(-(I_c - 0.5) ** 2 / (2 sigma ** 2)), sigma = 0.2.
The frames' Laplacian pyramids are blended with the Gaussian pyramids of the
weights and collapsed. The pyramid is OpenCV's (`cv2.pyrDown`/`pyrUp`: 5-tap
binomial kernel [1 4 6 4 1] / 16, reflect-101 borders; pyrUp replicates at the
bottom/right edge as OpenCV does) with floor(log2(min(H, W))) levels, as
`cv2.createMergeMertens`. The result is display-referred (about [0, 1]; values
slightly outside are possible and `exposure_fusion(clip=True)` clips them).

Exposure times are not used: the method needs none. Works on [B, N, H, W, 3] with
any N, H and W inside `tf.function` (the level count is computed at run time).
"""

from __future__ import annotations

import tensorflow as tf

WELL_EXPOSED_SIGMA = 0.2  # sigma of the well-exposedness Gaussian around 0.5
WEIGHT_FLOOR = 1e-12  # added to every weight before normalising (as OpenCV)
GREY_WEIGHTS = (0.299, 0.587, 0.114)  # grey level for the contrast measure (R, G, B)
_DOWN_TAPS = (1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16)


def _reflect101(positions, size):
    """Indices of `positions` in [0, size) with reflect-101 borders (any size >= 1)."""
    period = tf.maximum(2 * (size - 1), 1)
    folded = tf.math.floormod(positions, period)
    return tf.where(folded < size, folded, period - folded)


def _pyr_down_axis(x, axis: int):
    size = tf.shape(x)[axis]
    centres = 2 * tf.range((size + 1) // 2)
    taps = [
        weight * tf.gather(x, _reflect101(centres + offset, size), axis=axis)
        for offset, weight in zip(range(-2, 3), _DOWN_TAPS)
    ]
    return tf.add_n(taps)


@tf.autograph.experimental.do_not_convert
def pyr_down(x):
    """cv2.pyrDown of images [K, H, W, C]: blur, keep even rows/columns."""
    return _pyr_down_axis(_pyr_down_axis(x, 1), 2)


def _pyr_up_axis(x, axis: int, target):
    """Upsample one axis by 2 to `target` (2 m or 2 m - 1 for m input samples)."""
    size = tf.shape(x)[axis]
    index = tf.range(size)
    previous = tf.gather(x, _reflect101(index - 1, size), axis=axis)
    following = tf.gather(x, tf.minimum(index + 1, size - 1), axis=axis)
    even = 0.125 * previous + 0.75 * x + 0.125 * following
    odd = 0.5 * (x + following)
    interleaved = tf.stack([even, odd], axis=axis + 1)
    shape = tf.shape(x)
    merged = tf.concat([shape[:axis], [2 * size], shape[axis + 1 :]], axis=0)
    return tf.gather(tf.reshape(interleaved, merged), tf.range(target), axis=axis)


@tf.autograph.experimental.do_not_convert
def pyr_up(x, height, width):
    """cv2.pyrUp of images [K, h, w, C] to [K, height, width, C]."""
    return _pyr_up_axis(_pyr_up_axis(x, 1, height), 2, width)


def _laplacian(grey):
    """3x3 Laplacian [[0, 1, 0], [1, -4, 1], [0, 1, 0]] with reflect-101 borders."""
    total = -4.0 * grey
    for axis in (1, 2):
        size = tf.shape(grey)[axis]
        index = tf.range(size)
        for offset in (-1, 1):
            total += tf.gather(grey, _reflect101(index + offset, size), axis=axis)
    return total


@tf.autograph.experimental.do_not_convert
def fusion_weights(
    frames,
    contrast_weight: float = 1.0,
    saturation_weight: float = 1.0,
    exposure_weight: float = 1.0,
    sigma: float = WELL_EXPOSED_SIGMA,
):
    """Normalised Mertens weights [B, N, H, W] of frames [B, N, H, W, 3] in [0, 1]."""
    shape = tf.shape(frames)
    images = tf.reshape(frames, tf.concat([[-1], shape[2:]], axis=0))  # [B N, H, W, 3]
    grey = tf.reduce_sum(images * tf.constant(GREY_WEIGHTS, images.dtype), axis=-1)
    contrast = tf.abs(_laplacian(grey[..., None]))[..., 0]
    mean = tf.reduce_mean(images, axis=-1, keepdims=True)
    saturation = tf.sqrt(tf.reduce_mean(tf.square(images - mean), axis=-1))
    exposedness = tf.reduce_prod(
        tf.exp(-tf.square(images - 0.5) / (2.0 * sigma**2)), axis=-1
    )
    weights = (
        tf.pow(contrast, contrast_weight)
        * tf.pow(saturation, saturation_weight)
        * tf.pow(exposedness, exposure_weight)
        + WEIGHT_FLOOR
    )
    weights = tf.reshape(weights, shape[:4])
    return weights / tf.reduce_sum(weights, axis=1, keepdims=True)


@tf.autograph.experimental.do_not_convert
def pyramid_levels(height, width):
    """floor(log2(min(height, width))): the number of pyrDown steps OpenCV takes."""
    smallest = tf.minimum(height, width)
    levels = tf.zeros([], tf.int32)
    return tf.while_loop(
        lambda n, size: size > 1, lambda n, size: (n + 1, size // 2), (levels, smallest)
    )[0]


@tf.autograph.experimental.do_not_convert
def exposure_fusion(
    frames,
    contrast_weight: float = 1.0,
    saturation_weight: float = 1.0,
    exposure_weight: float = 1.0,
    sigma: float = WELL_EXPOSED_SIGMA,
    clip: bool = False,
):
    """Fused display image [B, H, W, 3] of stacks [B, N, H, W, 3] in [0, 1].

    Args:
        frames: the exposures of each stack, display-referred (any order).
        contrast_weight, saturation_weight, exposure_weight: exponents w_c, w_s,
            w_e of the three quality measures (1, 1, 1 in the paper and OpenCV).
        sigma: width of the well-exposedness Gaussian.
        clip: clip the result to [0, 1].
    """
    frames = tf.clip_by_value(tf.cast(frames, tf.float32), 0.0, 1.0)
    weights = fusion_weights(
        frames, contrast_weight, saturation_weight, exposure_weight, sigma
    )
    shape = tf.shape(frames)
    batch, count, height, width = shape[0], shape[1], shape[2], shape[3]
    images = tf.reshape(frames, [batch * count, height, width, 3])
    weights = tf.reshape(weights, [batch * count, height, width, 1])

    def blend(level_images, level_weights):
        size = tf.shape(level_images)
        weighted = tf.reshape(
            level_images * level_weights, [batch, count, size[1], size[2], 3]
        )
        return tf.reduce_sum(weighted, axis=1)

    levels = pyramid_levels(height, width)
    details = tf.TensorArray(
        tf.float32,
        size=levels,
        infer_shape=False,
        element_shape=tf.TensorShape([None, None, None, 3]),
    )

    def decompose(level, level_images, level_weights, details):
        size = tf.shape(level_images)
        smaller = pyr_down(level_images)
        laplacian = level_images - pyr_up(smaller, size[1], size[2])
        details = details.write(level, blend(laplacian, level_weights))
        return level + 1, smaller, pyr_down(level_weights), details

    varying = tf.TensorShape([None, None, None, None])
    _, coarsest, coarsest_weights, details = tf.while_loop(
        lambda level, *_: level < levels,
        decompose,
        (tf.constant(0), images, weights, details),
        shape_invariants=(
            tf.TensorShape([]),
            varying,
            varying,
            tf.TensorShape(None),
        ),
    )

    def collapse(level, result):
        detail = details.read(level)
        size = tf.shape(detail)
        return level - 1, pyr_up(result, size[1], size[2]) + detail

    _, fused = tf.while_loop(
        lambda level, _: level >= 0,
        collapse,
        (levels - 1, blend(coarsest, coarsest_weights)),
        shape_invariants=(tf.TensorShape([]), tf.TensorShape([None, None, None, 3])),
    )
    fused = tf.ensure_shape(fused, [None, None, None, 3])
    return tf.clip_by_value(fused, 0.0, 1.0) if clip else fused
