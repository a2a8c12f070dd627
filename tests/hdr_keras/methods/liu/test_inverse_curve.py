"""MonotoneInverseCurve and CurveApplication: SingleHDR's inverse-CRF head."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.methods.liu.curve_application import CurveApplication
from hdr_keras.methods.liu.inverse_curve import MonotoneInverseCurve
from hdr_keras.ops import crf


@pytest.fixture(scope="module")
def basis():
    return crf.builtin_basis(11)


def _curve_model(basis, k=11):
    weights = keras.Input((k,))
    image = keras.Input((None, None, 3))
    curve = MonotoneInverseCurve(k, basis=basis)(weights)
    return keras.Model([weights, image], [curve, CurveApplication()([image, curve])])


@pytest.mark.parametrize("scale", [0.1, 1.0, 10.0])
def test_random_weights_give_increasing_curves_from_0_to_1(basis, scale):
    weights = np.random.default_rng(0).normal(0, scale, (16, 11)).astype("float32")
    curves = np.asarray(MonotoneInverseCurve(11, basis=basis)(weights))
    assert curves.shape == (16, 1024)
    assert np.all(np.diff(curves, axis=1) >= -1e-7)
    np.testing.assert_allclose(curves[:, 0], 0.0, atol=1e-7)
    # The last sample is a cumulative sum of 1023 increments divided by their float32
    # sum: exact to 2 * 1023 float32 roundoffs (1.2e-4); unnormalised curves are off
    # by O(1).
    np.testing.assert_allclose(
        curves[:, -1], 1.0, atol=2 * 1023 * np.finfo(np.float32).eps / 2
    )


def test_zero_weights_give_the_monotone_mean_curve(basis):
    curve = np.asarray(MonotoneInverseCurve(11, basis=basis)(np.zeros((1, 11))))
    expected = crf.monotone_curve_from_weights(
        np.zeros((1, 11), "float32"), basis.inverse_mean, basis.inverse_basis
    )
    np.testing.assert_allclose(curve, expected, atol=1e-6)


def test_basis_is_non_trainable_and_restored_on_load(basis, tmp_path):
    model = _curve_model(basis)
    layer = next(l for l in model.layers if isinstance(l, MonotoneInverseCurve))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert layer.get_config()["basis_source"] == "builtin"
    rng = np.random.default_rng(1)
    inputs = [
        rng.normal(0, 0.5, (2, 11)).astype("float32"),
        rng.uniform(0, 1, (2, 5, 7, 3)).astype("float32"),
    ]
    model.save(tmp_path / "curve.keras")
    loaded = keras.saving.load_model(tmp_path / "curve.keras")
    for got, want in zip(loaded(inputs), model(inputs)):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_curve_application_interpolates_each_image_with_its_curve(basis):
    curve_a = np.linspace(0, 1, 1024, dtype="float32") ** 2
    curve_b = np.sqrt(np.linspace(0, 1, 1024, dtype="float32"))
    image = np.random.default_rng(2).uniform(0, 1, (2, 4, 5, 3)).astype("float32")
    out = np.asarray(CurveApplication()([image, np.stack([curve_a, curve_b])]))
    x = np.linspace(0, 1, 1024)
    np.testing.assert_allclose(out[0], np.interp(image[0], x, curve_a), atol=1e-6)
    np.testing.assert_allclose(out[1], np.interp(image[1], x, curve_b), atol=1e-6)


def test_wrong_number_of_weights_is_named(basis):
    with pytest.raises(ValueError, match="MonotoneInverseCurve expects"):
        MonotoneInverseCurve(11, basis=basis)(np.zeros((1, 5), "float32"))
