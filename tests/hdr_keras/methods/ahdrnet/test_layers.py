"""AHDRNet's layers: config round trips and arithmetic."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.methods.ahdrnet.attention import AttentionModule
from hdr_keras.methods.ahdrnet.drdb import DilatedResidualDenseBlock
from tests.harness import assert_config_round_trip

RNG = np.random.default_rng(0)


def _features(batch=2, height=9, width=11, channels=8):
    return RNG.normal(0, 1, (batch, height, width, channels)).astype("float32")


@pytest.mark.parametrize(
    "layer",
    [
        AttentionModule(8, negative_slope=0.1, kernel_initializer="glorot_uniform"),
        DilatedResidualDenseBlock(8, growth=4, num_layers=2, dilation=3),
    ],
)
def test_get_config_round_trip(layer):
    assert_config_round_trip(layer)


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
