"""Two tiny toy networks: a single-image one and a stack one."""

from __future__ import annotations

import keras
from keras import layers

from hdr_keras.layers.stack_features import SelectFrame, StackFeatures
from hdr_keras.ops.stack import check_stack_arguments
from toy_method.layers import Gain


def build_toy_single(name: str = "toy_single") -> keras.Model:
    """ldr [B, H, W, 3] -> 3x3 conv (ReLU) -> gain: linear HDR."""
    ldr = keras.Input((None, None, 3), name="ldr")
    x = layers.Conv2D(3, 3, padding="same", activation="relu", name="conv")(ldr)
    return keras.Model(ldr, Gain(name="gain")(x), name=name)


def build_toy_stack(
    num_frames: int = 3, reference: int | None = None, name: str = "toy_stack"
) -> keras.Model:
    """The reference frame's concat(Z, H) features -> 3x3 conv (sigmoid)."""
    reference = check_stack_arguments(num_frames, reference)
    ldr = keras.Input((num_frames, None, None, 3), name="ldr")
    exposure = keras.Input((num_frames,), name="exposure")
    stack = StackFeatures(name="stack_features")([ldr, exposure])
    frame = SelectFrame(reference, name="reference")(stack)
    x = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="conv")(frame)
    hdr = Gain(name="gain")(x)
    return keras.Model({"ldr": ldr, "exposure": exposure}, hdr, name=name)
