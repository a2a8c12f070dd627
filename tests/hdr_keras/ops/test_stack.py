"""Stack-method input features (hdr_keras.ops.stack) and the mu-law losses."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.constants import GAMMA, MU
from hdr_keras.losses import MuLawLoss, mu_law_l1, mu_law_l2
from hdr_keras.ops.stack import check_stack_arguments, stack_features

RNG = np.random.default_rng(0)


def _mu(h):
    return np.log1p(MU * h) / math.log1p(MU)


def test_stack_features_match_numpy_formula():
    ldr = RNG.uniform(0, 1, (2, 3, 5, 7, 3)).astype("float32")
    exposure = np.array([[0.0, 2.0, 4.0], [1.0, 4.0, 7.0]], "float32")
    features = np.asarray(stack_features(ldr, exposure))
    assert features.shape == (2, 3, 5, 7, 6)
    ev = exposure - exposure.min(axis=1, keepdims=True)  # [[0,2,4], [0,3,6]]
    expected_hdr = ldr**GAMMA / (2.0 ** ev[:, :, None, None, None])
    np.testing.assert_allclose(features[..., :3], ldr, rtol=1e-6)
    np.testing.assert_allclose(features[..., 3:], expected_hdr, rtol=1e-5, atol=1e-7)


def test_stack_features_only_depend_on_exposure_differences_and_clip():
    ldr = RNG.uniform(-0.1, 1.1, (1, 2, 4, 4, 3)).astype("float32")
    a = np.asarray(stack_features(ldr, np.array([[0.0, 3.0]], "float32"), gamma=2.0))
    b = np.asarray(stack_features(ldr, np.array([[-5.0, -2.0]], "float32"), gamma=2.0))
    np.testing.assert_allclose(a, b, rtol=1e-6)
    clipped = np.clip(ldr, 0, 1)
    np.testing.assert_allclose(a[..., :3], clipped)
    np.testing.assert_allclose(a[:, 1, ..., 3:], clipped[:, 1] ** 2 / 8, rtol=1e-5)


def test_check_stack_arguments():
    assert check_stack_arguments(3, None) == 1
    assert check_stack_arguments(5, None) == 2
    assert check_stack_arguments(2, 0) == 0
    with pytest.raises(ValueError, match="num_frames"):
        check_stack_arguments(1, None)
    with pytest.raises(ValueError, match="reference"):
        check_stack_arguments(3, 3)


def test_mu_law_losses_known_values():
    true = np.array([[0.0, 0.25, 1.0]], "float32")
    pred = np.array([[0.25, 0.25, 0.0]], "float32")
    diff = _mu(pred) - _mu(true)  # [mu(0.25), 0, -1]
    np.testing.assert_allclose(
        float(mu_law_l1(true, pred)), np.abs(diff).mean(), rtol=1e-6
    )
    np.testing.assert_allclose(
        float(mu_law_l2(true, pred)), (diff**2).mean(), rtol=1e-6
    )
    np.testing.assert_allclose(float(mu_law_l1(true, true)), 0.0, atol=1e-7)


def test_mu_law_loss_class_matches_functions_and_domains():
    true = RNG.uniform(0, 1, (2, 4, 4, 3)).astype("float32")
    pred = RNG.uniform(0, 1, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(
        float(MuLawLoss("l1")(true, pred)), float(mu_law_l1(true, pred)), rtol=1e-5
    )
    np.testing.assert_allclose(
        float(MuLawLoss("l2")(true, pred)), float(mu_law_l2(true, pred)), rtol=1e-5
    )
    tonemapped = _mu(pred).astype("float32")
    np.testing.assert_allclose(
        float(MuLawLoss("l2", prediction="mu_law")(true, tonemapped)),
        float(mu_law_l2(true, pred)),
        rtol=1e-5,
    )


def test_mu_law_loss_config_round_trip_and_errors():
    loss = MuLawLoss("l2", prediction="mu_law")
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(clone, MuLawLoss)
    assert (clone.norm, clone.prediction) == ("l2", "mu_law")
    with pytest.raises(ValueError, match="norm"):
        MuLawLoss("l3")
    with pytest.raises(ValueError, match="prediction"):
        MuLawLoss("l1", prediction="log")
