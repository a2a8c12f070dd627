"""HDRCNN losses against an independent numpy implementation of the authors' code."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from hdr_keras.constants import HDRCNN_EPS, LUMINANCE_WEIGHTS
from hdr_keras.methods.eilertsen.losses import (
    HDRCNNLoss,
    hdrcnn_blur_kernel,
    illuminance_reflectance_loss,
    masked_log_l2,
)

RNG = np.random.default_rng(0)


def _reference_kernel(size=13, nsig=2.0):
    # As in the authors' training code: sqrt(outer(k, k)) normalised.
    interval = (2 * nsig + 1.0) / size
    edges = np.linspace(-nsig - interval / 2.0, nsig + interval / 2.0, size + 1)
    cdf = np.array([0.5 * (1 + math.erf(e / math.sqrt(2))) for e in edges])
    k = np.diff(cdf)
    raw = np.sqrt(np.outer(k, k))
    return raw / raw.sum()


def _conv_same(image, kernel):
    """Zero-padded 'same' 2-D correlation of [B, H, W] with an odd kernel."""
    r = kernel.shape[0] // 2
    padded = np.pad(image, ((0, 0), (r, r), (r, r)))
    out = np.zeros_like(image)
    for dy in range(kernel.shape[0]):
        for dx in range(kernel.shape[1]):
            out += (
                kernel[dy, dx]
                * padded[:, dy : dy + image.shape[1], dx : dx + image.shape[2]]
            )
    return out


def _mask(target):
    return np.clip((target.max(-1, keepdims=True) - 0.95) / 0.05, 0, 1)


def _reference_ir_loss(target, log_pred, lam=0.5):
    eps = HDRCNN_EPS
    w = np.asarray(LUMINANCE_WEIGHTS)
    kernel = _reference_kernel()
    lum_true = np.log((target * w).sum(-1) + eps)
    lum_pred = np.log(((np.exp(log_pred) - eps) * w).sum(-1) + eps)
    ill_true = _conv_same(lum_true, kernel)[..., None]
    ill_pred = _conv_same(lum_pred, kernel)[..., None]
    refl_true = np.log(target + eps) - ill_true
    refl_pred = log_pred - ill_pred
    value = lam * (ill_pred - ill_true) ** 2 + (1 - lam) * (refl_pred - refl_true) ** 2
    return float(np.mean(value * _mask(target)))


def _pair(shape=(2, 24, 20, 3)):
    target = np.exp(RNG.normal(0.0, 1.5, shape)).astype("float32")
    log_pred = (np.log(target + HDRCNN_EPS) + RNG.normal(0, 0.3, shape)).astype(
        "float32"
    )
    return target, log_pred


def test_blur_kernel_matches_authors_construction():
    np.testing.assert_allclose(
        hdrcnn_blur_kernel(), _reference_kernel(), rtol=1e-5, atol=1e-8
    )


def test_illuminance_reflectance_matches_reference():
    target, log_pred = _pair()
    expected = _reference_ir_loss(
        target.astype(np.float64), log_pred.astype(np.float64)
    )
    assert float(illuminance_reflectance_loss(target, log_pred)) == pytest.approx(
        expected, rel=1e-4
    )


def test_masked_log_l2_matches_reference():
    target, log_pred = _pair()
    expected = np.mean(((log_pred - np.log(target + HDRCNN_EPS)) * _mask(target)) ** 2)
    assert float(masked_log_l2(target, log_pred)) == pytest.approx(
        float(expected), rel=1e-5
    )


@pytest.mark.parametrize("kind", HDRCNNLoss.KINDS)
def test_losses_ignore_errors_where_target_is_well_exposed(kind):
    target = RNG.uniform(0.0, 0.9, (1, 32, 32, 3)).astype("float32")
    target[:, 8:16, 8:16, :] = 5.0  # a saturated highlight
    perfect = np.log(target + HDRCNN_EPS)
    wrong_elsewhere = perfect.copy()
    wrong_elsewhere[:, 24:, 24:, :] += 3.0  # far from the highlight (> blur radius)
    loss = HDRCNNLoss(kind)
    assert float(loss(target, perfect)) == pytest.approx(0.0, abs=1e-9)
    assert float(loss(target, wrong_elsewhere)) == pytest.approx(0.0, abs=1e-9)
    wrong_inside = perfect.copy()
    wrong_inside[:, 10:14, 10:14, :] += 1.0
    assert float(loss(target, wrong_inside)) > 1e-4


def test_loss_config_round_trip_and_validation():
    loss = HDRCNNLoss("masked_log_l2", lam=0.3, tau=0.9)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert restored.get_config() == loss.get_config()
    with pytest.raises(ValueError, match="kind must be one of"):
        HDRCNNLoss("l1")
