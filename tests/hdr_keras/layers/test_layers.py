"""Shared custom layers: get_config round trips, .keras save/load, and their arithmetic."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.layers import CropToMatch, PadToMultiple, VGGPreprocess
from tests.harness import assert_config_round_trip, save_and_load

RNG = np.random.default_rng(0)


def _image(height=21, width=37, batch=2):
    return RNG.uniform(0.0, 1.0, (batch, height, width, 3)).astype("float32")


@pytest.mark.parametrize(
    "layer",
    [
        PadToMultiple(16),
        VGGPreprocess(),
    ],
)
def test_get_config_round_trip(layer):
    assert_config_round_trip(layer)


def test_pad_crop_round_trip_and_save(tmp_path):
    inputs = keras.Input((None, None, 3))
    padded = PadToMultiple(32)(inputs)
    outputs = CropToMatch(32)([padded * 2.0, inputs])
    model = keras.Model(inputs, [padded, outputs])
    x = _image(333 % 40 + 17, 517 % 50 + 17)
    pad, out = model(x)
    assert pad.shape[1] % 32 == 0 and pad.shape[2] % 32 == 0
    np.testing.assert_allclose(out, 2.0 * x, rtol=1e-6)
    loaded = save_and_load(model, tmp_path)
    np.testing.assert_allclose(loaded(x)[1], out, rtol=1e-6)


def test_pad_is_symmetric_mirror():
    x = np.arange(3 * 5, dtype="float32").reshape(1, 3, 5, 1)
    padded = np.asarray(PadToMultiple(4)(np.repeat(x, 3, axis=-1)))[..., 0]
    assert padded.shape == (1, 4, 8)
    # width 5 -> 8: 1 column before (mirror of column 0), 2 after (columns 4, 3)
    np.testing.assert_array_equal(padded[0, 0, :], [0, 0, 1, 2, 3, 4, 4, 3])


def test_vgg_preprocess_is_caffe_convention():
    rgb = np.array([[[[1.0, 0.5, 0.0]]]], dtype="float32")
    out = np.asarray(VGGPreprocess()(rgb))
    np.testing.assert_allclose(
        out[0, 0, 0], [0.0 - 103.939, 127.5 - 116.779, 255.0 - 123.68], rtol=1e-5
    )
