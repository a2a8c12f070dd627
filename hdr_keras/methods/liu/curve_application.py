"""Applies one sampled curve per image (e.g. an inverse camera curve) to the image."""

from __future__ import annotations

import keras

from hdr_keras.ops.crf import apply_curve


@keras.saving.register_keras_serializable(package="hdr_keras")
class CurveApplication(keras.layers.Layer):
    """`CurveApplication()([image, curve])`: image [B, H, W, C] in [0, 1], curve
    [B, S] samples at linspace(0, 1, S) -> curve(image) by linear interpolation at
    x * (S - 1) (`hdr_keras.ops.crf.apply_curve`, SingleHDR's `apply_rf`).

    Differentiable w.r.t. the image and the curve.
    Reference: Liu et al., CVPR 2020 (B = inverse CRF applied to the dequantised C).
    """

    def call(self, inputs):
        image, curve = inputs
        return apply_curve(image, curve)

    def compute_output_shape(self, input_shape):
        return input_shape[0]
