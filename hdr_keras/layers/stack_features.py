"""Stack-method input layers: raw `ldr` + `exposure` -> per-frame features.

The exported stack models take the raw serving inputs (`ldr` [B, N, H, W, 3] in
[0, 1] and `exposure` [B, N] in stops); `StackFeatures` turns them into the
concat(Z_i, H_i) features of `hdr_keras.ops.stack.stack_features`, and
`SelectFrame` picks one frame of a stack for per-frame sub-networks.
"""

from __future__ import annotations

import keras

from hdr_keras.constants import GAMMA
from hdr_keras.ops.stack import stack_features


@keras.saving.register_keras_serializable(package="hdr_keras")
class StackFeatures(keras.layers.Layer):
    """concat(Z_i, Z_i ** gamma / 2 ** ev_i) for every frame of an exposure stack.

    Called as `StackFeatures()([ldr, exposure])` with `ldr` [B, N, H, W, 3]
    display-referred in [0, 1] and `exposure` [B, N] biases in stops (normalised so
    the smallest is 0); returns [B, N, H, W, 6].

    Args:
        gamma: exponent of the camera curve assumed by the linearisation (2.2).
    Reference: Kalantari & Ramamoorthi, SIGGRAPH 2017, Sec. 3.2 (the input
    representation reused by Wu et al. 2018 and Yan et al. 2019).
    """

    def __init__(self, gamma: float = GAMMA, **kwargs):
        super().__init__(**kwargs)
        self.gamma = float(gamma)

    def call(self, inputs):
        ldr, exposure = inputs
        return stack_features(ldr, exposure, self.gamma)

    def compute_output_shape(self, input_shape):
        ldr_shape, _ = input_shape
        return (*ldr_shape[:-1], 2 * ldr_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"gamma": self.gamma})
        return config


@keras.saving.register_keras_serializable(package="hdr_keras")
class SelectFrame(keras.layers.Layer):
    """Frame `index` of a stack: [B, N, H, W, C] -> [B, H, W, C].

    Args:
        index: frame position in the stack, 0 <= index < N (negative counts from
            the end, as in Python indexing).
    """

    def __init__(self, index: int, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, stack):
        return stack[:, self.index]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"index": self.index})
        return config
