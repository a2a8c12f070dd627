"""SoftHistogram: SingleHDR's tent-kernel histogram features."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.methods.liu.soft_histogram import SoftHistogram

RNG = np.random.default_rng(0)


def _official(img, max_bin):
    """numpy transcription of the official `histogram_layer(img, max_bin)`."""
    return np.concatenate(
        [
            np.maximum(1 - np.abs(img - i / float(max_bin)) * float(max_bin), 0)
            for i in range(max_bin + 1)
        ],
        axis=-1,
    )


@pytest.mark.parametrize("bins", [4, 8, 16])
def test_matches_the_official_layout_and_sums_to_one(bins):
    img = RNG.uniform(0, 1, (2, 5, 7, 3)).astype("float32")
    out = np.asarray(SoftHistogram(bins)(img))
    assert out.shape == (2, 5, 7, 3 * (bins + 1))
    np.testing.assert_allclose(out, _official(img, bins), atol=1e-6)
    per_bin = out.reshape(2, 5, 7, bins + 1, 3)
    np.testing.assert_allclose(per_bin.sum(axis=3), 1.0, atol=1e-5)
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_102_input_channels_of_the_linearization_net():
    channels = 3 + 6 + sum(3 * (b + 1) for b in (4, 8, 16))
    assert channels == 102


def test_range_out_of_bounds_inputs_are_clipped():
    img = np.array([[[[-0.5, 1.7, 0.5]]]], "float32")
    out = np.asarray(SoftHistogram(4)(img)).reshape(5, 3)
    np.testing.assert_allclose(out[:, 0], [1, 0, 0, 0, 0])  # -0.5 -> 0
    np.testing.assert_allclose(out[:, 1], [0, 0, 0, 0, 1])  # 1.7 -> 1
    np.testing.assert_allclose(out[:, 2], [0, 0, 1, 0, 0])  # centre bin
    np.testing.assert_allclose(out.sum(axis=0), 1.0)


@pytest.mark.parametrize("bins", [4, 16])
def test_tends_to_a_hard_histogram_as_softness_goes_to_zero(bins):
    img = RNG.uniform(0, 1, (1, 16, 16, 3)).astype("float32")
    hard = np.zeros((16 * 16 * 3, bins + 1))
    hard[np.arange(hard.shape[0]), np.rint(img.reshape(-1) * bins).astype(int)] = 1
    hard_counts = hard.sum(axis=0)
    errors = []
    for softness in (1.0, 0.1, 0.01, 0.001):
        out = np.asarray(SoftHistogram(bins, softness=softness)(img))
        per_bin = out.reshape(16 * 16, bins + 1, 3).transpose(0, 2, 1)
        per_bin = per_bin.reshape(-1, bins + 1)
        np.testing.assert_allclose(per_bin.sum(axis=1), 1.0, atol=1e-5)
        errors.append(np.abs(per_bin.sum(axis=0) - hard_counts).sum())
    assert errors == sorted(errors, reverse=True) and errors[-1] < errors[0] / 20
    # Per pixel the nearest bin weighs most, and its weight approaches 1.
    np.testing.assert_array_equal(per_bin.argmax(axis=1), hard.argmax(axis=1))
    assert np.mean(np.abs(per_bin - hard).max(axis=1) < 1e-3) > 0.9


def test_invalid_arguments_are_named():
    with pytest.raises(ValueError, match="bins"):
        SoftHistogram(0)
    with pytest.raises(ValueError, match="softness"):
        SoftHistogram(4, softness=0.0)


def test_config_and_keras_round_trip(tmp_path):
    layer = SoftHistogram(8, softness=0.5)
    assert SoftHistogram.from_config(layer.get_config()).get_config() == (
        layer.get_config()
    )
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, layer(inputs))
    img = RNG.uniform(0, 1, (1, 6, 9, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded(img), model(img), atol=1e-6)
