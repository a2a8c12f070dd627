"""HDRCNN's layers: get_config round trips, .keras save/load, and their arithmetic."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.constants import HDRCNN_EPS, HDRCNN_TAU
from hdr_keras.methods.eilertsen.highlight_blend import HighlightBlend
from hdr_keras.methods.eilertsen.log_domain_transform import LogDomainTransform
from tests.harness import assert_config_round_trip, save_and_load

RNG = np.random.default_rng(0)


def _image(height=21, width=37, batch=2):
    return RNG.uniform(0.0, 1.0, (batch, height, width, 3)).astype("float32")


@pytest.mark.parametrize(
    "layer",
    [
        LogDomainTransform(scale=0.5, exponent=2.2, eps=0.01),
        HighlightBlend(tau=0.9),
    ],
)
def test_get_config_round_trip(layer):
    assert_config_round_trip(layer)


def test_log_domain_transform_matches_formula():
    activations = RNG.uniform(0, 255, (1, 4, 4, 8)).astype("float32")
    out = np.asarray(LogDomainTransform()(activations))
    np.testing.assert_allclose(
        out, np.log((activations / 255.0) ** 2 + HDRCNN_EPS), rtol=1e-5, atol=1e-5
    )


def test_highlight_blend_formula_and_save(tmp_path):
    ldr_in = keras.Input((None, None, 3))
    log_in = keras.Input((None, None, 3))
    model = keras.Model([ldr_in, log_in], HighlightBlend()([ldr_in, log_in]))
    ldr = _image()
    log_hdr = RNG.normal(0.0, 2.0, ldr.shape).astype("float32")
    alpha = np.clip((ldr.max(-1, keepdims=True) - HDRCNN_TAU) / (1 - HDRCNN_TAU), 0, 1)
    expected = (1 - alpha) * ldr**2 + alpha * np.maximum(
        np.exp(log_hdr) - HDRCNN_EPS, 0
    )
    np.testing.assert_allclose(model([ldr, log_hdr]), expected, rtol=1e-5, atol=1e-7)
    loaded = save_and_load(model, tmp_path)
    np.testing.assert_allclose(loaded([ldr, log_hdr]), expected, rtol=1e-5, atol=1e-7)
