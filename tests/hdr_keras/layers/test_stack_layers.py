"""Layers of the stack methods: config round trips, .keras save/load, arithmetic."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.layers.attention import AttentionModule
from hdr_keras.layers.drdb import DilatedResidualDenseBlock
from hdr_keras.layers.mu_law import MuLaw
from hdr_keras.layers.reflect_conv import ReflectConv2D
from hdr_keras.layers.residual_block import ResidualBlock
from hdr_keras.layers.stack_features import SelectFrame, StackFeatures
from hdr_keras.ops.stack import stack_features
from hdr_keras.ops.tonemap import mu_law

RNG = np.random.default_rng(0)


def _features(batch=2, height=9, width=11, channels=8):
    return RNG.normal(0, 1, (batch, height, width, channels)).astype("float32")


def _save_load(model, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    return keras.saving.load_model(path)  # safe_mode=True by default


@pytest.mark.parametrize(
    "layer",
    [
        StackFeatures(gamma=2.0),
        SelectFrame(2),
        AttentionModule(8, negative_slope=0.1, kernel_initializer="glorot_uniform"),
        DilatedResidualDenseBlock(8, growth=4, num_layers=2, dilation=3),
        ReflectConv2D(5, kernel_size=3, strides=2, kernel_initializer="he_normal"),
        ResidualBlock(8, momentum=0.8, epsilon=1e-3),
        MuLaw(mu=100.0, inverse=True),
    ],
)
def test_get_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


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
    np.testing.assert_allclose(_save_load(model, tmp_path)(inputs), expected, rtol=1e-6)


def test_attention_module_formula():
    layer = AttentionModule(8)
    frame, reference = _features(), _features()
    out = np.asarray(layer([frame, reference]))
    hidden = layer.hidden_conv(np.concatenate([frame, reference], axis=-1))
    hidden = np.asarray(hidden)
    hidden = np.where(hidden > 0, hidden, 0.01 * hidden)
    attention = 1 / (1 + np.exp(-np.asarray(layer.logits_conv(hidden))))
    np.testing.assert_allclose(out, frame * attention, rtol=1e-5, atol=1e-6)
    assert layer.hidden_conv.kernel.shape == (3, 3, 16, 16)
    assert layer.logits_conv.kernel.shape == (3, 3, 16, 8)


def test_drdb_shapes_residual_and_distinct_initial_weights():
    layer = DilatedResidualDenseBlock(8, growth=4, num_layers=3)
    x = _features()
    assert layer(x).shape == x.shape
    kernels = [conv.kernel.shape for conv in layer.dense_convs]
    assert kernels == [(3, 3, 8, 4), (3, 3, 12, 4), (3, 3, 16, 4)]
    assert layer.fusion_conv.kernel.shape == (1, 1, 20, 8)
    assert all(conv.dilation_rate == (2, 2) for conv in layer.dense_convs)
    first = np.asarray(layer.dense_convs[1].kernel)[:, :, :8]
    assert not np.allclose(first, np.asarray(layer.dense_convs[0].kernel)[..., :4])
    np.testing.assert_allclose(layer(x), layer.naive_call(x), rtol=1e-5, atol=1e-5)
    layer.fusion_conv.kernel.assign(np.zeros(layer.fusion_conv.kernel.shape))
    layer.fusion_conv.bias.assign(np.zeros(layer.fusion_conv.bias.shape))
    np.testing.assert_allclose(layer(x), x, rtol=1e-6)  # local residual only


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


def test_residual_block_inference_formula_and_save(tmp_path):
    inputs = keras.Input((None, None, 8))
    model = keras.Model(inputs, ResidualBlock(8, name="block")(inputs))
    x = _features()
    block = model.get_layer("block")
    rect = np.maximum(x, 0)

    def bn(layer, v):
        mean, var = np.asarray(layer.moving_mean), np.asarray(layer.moving_variance)
        return (v - mean) / np.sqrt(var + layer.epsilon) * np.asarray(
            layer.gamma
        ) + np.asarray(layer.beta)

    y = np.maximum(bn(block.bn1, np.asarray(block.conv1(rect))), 0)
    expected = rect + bn(block.bn2, np.asarray(block.conv2(y)))
    np.testing.assert_allclose(model(x, training=False), expected, rtol=1e-4, atol=1e-5)
    loaded = _save_load(model, tmp_path)
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)


def test_mu_law_layer_forward_and_inverse():
    hdr = RNG.uniform(0, 1, (2, 4, 4, 3)).astype("float32")
    tonemapped = np.asarray(MuLaw()(hdr))
    np.testing.assert_allclose(tonemapped, np.asarray(mu_law(hdr)), rtol=1e-6)
    np.testing.assert_allclose(
        MuLaw(inverse=True)(tonemapped), hdr, rtol=1e-4, atol=1e-6
    )


def test_model_of_all_layers_save_load(tmp_path):
    inputs = keras.Input((None, None, 8))
    reference = keras.Input((None, None, 8))
    x = AttentionModule(8)([inputs, reference])
    x = DilatedResidualDenseBlock(8, growth=4, num_layers=2)(x)
    x = ReflectConv2D(8, kernel_size=5, strides=2)(x)
    x = ResidualBlock(8)(x)
    model = keras.Model([inputs, reference], x)
    data = [_features(1, 12, 14), _features(1, 12, 14)]
    loaded = _save_load(model, tmp_path)
    np.testing.assert_allclose(loaded(data), model(data), rtol=1e-5, atol=1e-6)
