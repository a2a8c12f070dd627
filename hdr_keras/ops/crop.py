"""Centre crops: the one function that cuts the middle of an image or a batch."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def center_crop(images, height, width):
    """Centre crop of [..., H, W, C] (a NumPy array or a tensor) to height x width.

    (H - height) is split evenly, the smaller half above (left); a size larger
    than the image keeps that whole axis. NumPy in, NumPy out; tensors (any rank
    >= 3, static or dynamic sizes, `height`/`width` ints or scalar tensors) give a
    tensor.
    """
    if isinstance(images, np.ndarray):
        rows, cols = images.shape[-3], images.shape[-2]
        top, left = max(0, (rows - height) // 2), max(0, (cols - width) // 2)
    else:
        shape = tf.shape(images)
        rows, cols = shape[-3], shape[-2]
        top = tf.maximum(0, (rows - height) // 2)
        left = tf.maximum(0, (cols - width) // 2)
    return images[..., top : top + height, left : left + width, :]
