"""Centre crops (`hdr_keras.ops.crop.center_crop`): NumPy arrays and tensors."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from hdr_keras.ops.crop import center_crop


def test_numpy_image_crop_and_sizes_larger_than_the_image():
    image = np.arange(7 * 9 * 2).reshape(7, 9, 2)
    crop = center_crop(image, 3, 4)
    assert isinstance(crop, np.ndarray)
    # (7 - 3) // 2 = 2 rows above, (9 - 4) // 2 = 2 columns to the left.
    np.testing.assert_array_equal(crop, image[2:5, 2:6])
    np.testing.assert_array_equal(center_crop(image, 10, 20), image)


def test_tensor_batches_and_stacks_with_dynamic_sizes():
    batch = np.random.default_rng(0).uniform(size=(2, 8, 11, 3)).astype("float32")
    stack = np.stack([batch, 2 * batch], axis=1)  # [B, N, H, W, C]
    np.testing.assert_array_equal(
        center_crop(tf.constant(batch), 5, 6), batch[:, 1:6, 2:8]
    )
    np.testing.assert_array_equal(
        center_crop(tf.constant(stack), 5, 6), stack[:, :, 1:6, 2:8]
    )

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def dynamic(images):
        shape = tf.shape(images)
        return center_crop(images, shape[1] - 3, shape[2] - 5)

    np.testing.assert_array_equal(dynamic(batch), batch[:, 1:6, 2:8])
