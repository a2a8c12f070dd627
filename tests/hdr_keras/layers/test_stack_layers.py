"""Shared stack-method layers: config round trips, .keras save/load, arithmetic
(and a model mixing them with AHDRNet's and Wu's layers)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.layers.reflect_conv import ReflectConv2D
from hdr_keras.layers.stack_features import SelectFrame, StackFeatures
from hdr_keras.methods.ahdrnet.attention import AttentionModule
from hdr_keras.methods.ahdrnet.drdb import DilatedResidualDenseBlock
from hdr_keras.methods.wu.residual_block import ResidualBlock
from hdr_keras.ops.stack import stack_features
from tests.harness import assert_config_round_trip, save_and_load

RNG = np.random.default_rng(0)


def _features(batch=2, height=9, width=11, channels=8):
    return RNG.normal(0, 1, (batch, height, width, channels)).astype("float32")


@pytest.mark.parametrize(
    "layer",
    [
        StackFeatures(gamma=2.0),
        SelectFrame(2),
        ReflectConv2D(5, kernel_size=3, strides=2, kernel_initializer="he_normal"),
    ],
)
def test_get_config_round_trip(layer):
    assert_config_round_trip(layer)


def test_stack_features_and_select_frame_save_load(tmp_path):
    ldr = keras.Input((3, None, None, 3), name="ldr")
    exposure = keras.Input((3,), name="exposure")
    stack = StackFeatures()([ldr, exposure])
    model = keras.Model({"ldr": ldr, "exposure": exposure}, SelectFrame(1)(stack))
    inputs = {
        "ldr": RNG.uniform(0, 1, (2, 3, 5, 6, 3)).astype("float32"),
        "exposure": np.array([[0, 2, 4], [1, 2, 3]], "float32"),
    }
    expected = np.asarray(stack_features(inputs["ldr"], inputs["exposure"]))[:, 1]
    np.testing.assert_allclose(model(inputs), expected, rtol=1e-6)
    np.testing.assert_allclose(save_and_load(model, tmp_path)(inputs), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "size, stride, expected_padding",
    [
        ((8, 10), 2, ((1, 2), (1, 2))),
        ((9, 7), 2, ((2, 2), (2, 2))),
        ((6, 6), 1, ((2, 2), (2, 2))),
    ],
)
def test_reflect_conv_pads_like_tf_same(size, stride, expected_padding):
    layer = ReflectConv2D(4, kernel_size=5, strides=stride)
    x = _features(1, *size, channels=3)
    out = np.asarray(layer(x))
    padded = np.pad(x, ((0, 0), *expected_padding, (0, 0)), mode="reflect")
    reference = np.asarray(
        keras.ops.conv(padded, layer.conv.kernel, strides=stride, padding="valid")
    ) + np.asarray(layer.conv.bias)
    assert out.shape == (1, -(-size[0] // stride), -(-size[1] // stride), 4)
    np.testing.assert_allclose(out, reference, rtol=1e-5, atol=1e-5)


def test_model_of_all_layers_save_load(tmp_path):
    inputs = keras.Input((None, None, 8))
    reference = keras.Input((None, None, 8))
    x = AttentionModule(8)([inputs, reference])
    x = DilatedResidualDenseBlock(8, growth=4, num_layers=2)(x)
    x = ReflectConv2D(8, kernel_size=5, strides=2)(x)
    x = ResidualBlock(8)(x)
    model = keras.Model([inputs, reference], x)
    data = [_features(1, 12, 14), _features(1, 12, 14)]
    loaded = save_and_load(model, tmp_path)
    np.testing.assert_allclose(loaded(data), model(data), rtol=1e-5, atol=1e-6)
