"""Kalantari 2017's training loss: L2 against the target cropped to the prediction."""

from __future__ import annotations

import keras
import tensorflow as tf

from hdr_keras.losses import mu_law_l2
from hdr_keras.ops.crop import center_crop


@keras.saving.register_keras_serializable(package="hdr_keras")
class CroppedL2Loss(keras.losses.Loss):
    """L2 between the prediction and the target centre-cropped to its size.

    Kalantari's unpadded network predicts (P - 12) x (P - 12) pixels from P x P
    training patches; the target loses the same border (a no-op when the sizes
    already agree, e.g. with padding="same").

    Args:
        domain: "mu_law": linear HDR in [0, 1] compared after the mu-law tonemapper
            (Kalantari's loss, `hdr_keras.losses.mu_law_l2`); "linear": compared
            as they are (WIE's first stage: refined vs aligned LDR images).
    """

    DOMAINS = ("mu_law", "linear")

    def __init__(self, domain: str = "mu_law", name: str = "cropped_l2", **kwargs):
        if domain not in self.DOMAINS:
            raise ValueError(
                f"CroppedL2Loss domain must be one of {self.DOMAINS}, got {domain!r}"
            )
        super().__init__(name=name, **kwargs)
        self.domain = domain

    def call(self, y_true, y_pred):
        shape = tf.shape(y_pred)
        y_true = tf.cast(center_crop(y_true, shape[1], shape[2]), y_pred.dtype)
        if self.domain == "mu_law":
            return mu_law_l2(y_true, y_pred)
        return tf.reduce_mean(tf.square(y_pred - y_true))

    def get_config(self):
        config = super().get_config()
        config.update({"domain": self.domain})
        return config
