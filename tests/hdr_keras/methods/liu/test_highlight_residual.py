"""HighlightResidual: A = B + alpha relu(y) near saturation (SingleHDR)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.methods.liu.constants import LIU_TAU, LIU_TAU_PAPER
from hdr_keras.methods.liu.highlight_residual import HighlightResidual


@pytest.mark.parametrize("tau", [LIU_TAU, LIU_TAU_PAPER])
def test_mask_and_positive_residual(tau):
    linear = np.array([0.5, tau, (1 + tau) / 2, 1.0], "float32").reshape(1, 1, 4, 1)
    linear = np.repeat(linear, 3, axis=-1)
    residual = np.full_like(linear, 2.0)
    out = np.asarray(HighlightResidual(tau)([linear, residual]))[0, 0, :, 0]
    np.testing.assert_allclose(
        out, linear[0, 0, :, 0] + 2.0 * np.array([0, 0, 0.5, 1]), atol=1e-5
    )
    negative = np.asarray(HighlightResidual(tau)([linear, -residual]))
    np.testing.assert_allclose(negative, linear)  # relu: never darker than B


def test_defaults_to_the_code_threshold_and_round_trips(tmp_path):
    assert HighlightResidual().tau == LIU_TAU == 0.88
    with pytest.raises(ValueError, match="tau"):
        HighlightResidual(1.0)
    linear, residual = keras.Input((None, None, 3)), keras.Input((None, None, 3))
    model = keras.Model([linear, residual], HighlightResidual(0.9)([linear, residual]))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    rng = np.random.default_rng(0)
    x = [rng.uniform(0, 1, (1, 4, 4, 3)).astype("float32") for _ in range(2)]
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
