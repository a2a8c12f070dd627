"""Wu et al. 2018's layers: config round trips, .keras save/load, arithmetic."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.methods.wu.mu_law import MuLaw
from hdr_keras.methods.wu.residual_block import ResidualBlock
from hdr_keras.ops.tonemap import mu_law
from tests.harness import assert_config_round_trip, save_and_load

RNG = np.random.default_rng(0)


def _features(batch=2, height=9, width=11, channels=8):
    return RNG.normal(0, 1, (batch, height, width, channels)).astype("float32")


@pytest.mark.parametrize(
    "layer",
    [
        ResidualBlock(8, momentum=0.8, epsilon=1e-3),
        MuLaw(mu=100.0, inverse=True),
    ],
)
def test_get_config_round_trip(layer):
    assert_config_round_trip(layer)


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
    loaded = save_and_load(model, tmp_path)
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)


def test_mu_law_layer_forward_and_inverse():
    hdr = RNG.uniform(0, 1, (2, 4, 4, 3)).astype("float32")
    tonemapped = np.asarray(MuLaw()(hdr))
    np.testing.assert_allclose(tonemapped, np.asarray(mu_law(hdr)), rtol=1e-6)
    np.testing.assert_allclose(
        MuLaw(inverse=True)(tonemapped), hdr, rtol=1e-4, atol=1e-6
    )
