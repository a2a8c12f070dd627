"""Kalantari's layers: WeightBlending (WE/WIE merge) and StackReflectPad."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import hdr_keras  # noqa: F401  (registers the custom objects)
from hdr_keras.methods.kalantari.stack_reflect_pad import StackReflectPad
from hdr_keras.methods.kalantari.weight_blending import WeightBlending

RNG = np.random.default_rng(3)
EXPOSURE = np.array([[0.0, 2.0, 4.0], [1.0, 4.0, 7.0]], "float32")


def _radiance(ldr, exposure, gamma=2.2):
    """Independent numpy H_i = Z_i ** gamma / 2 ** (ev_i - min ev)."""
    times = 2.0 ** (exposure - exposure.min(axis=1, keepdims=True))
    return ldr.astype(np.float64) ** gamma / times[:, :, None, None, None]


def _blend(weights, radiance, epsilon=1e-6):
    """Independent numpy sum_i a_i H_i / (sum_i a_i + eps) per channel."""
    b, h, w, _ = weights.shape
    a = weights.reshape(b, h, w, 3, 3).transpose(0, 3, 1, 2, 4)
    return (a * radiance).sum(axis=1) / (a.sum(axis=1) + epsilon)


@pytest.mark.parametrize(
    "layer", [WeightBlending(num_frames=4, gamma=2.0, epsilon=1e-3), StackReflectPad(5)]
)
def test_get_config_round_trip(layer):
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config


def test_blending_of_aligned_frames_matches_the_formula_after_centre_crop():
    weights = RNG.uniform(0, 1, (2, 5, 7, 9)).astype("float32")
    ldr = RNG.uniform(0, 1, (2, 3, 9, 11, 3)).astype("float32")  # 2 px larger / side
    out = WeightBlending(3)([weights, ldr, EXPOSURE])
    expected = _blend(weights, _radiance(ldr[:, :, 2:7, 2:9], EXPOSURE))
    assert out.shape == (2, 5, 7, 3)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-7)


def test_folded_refined_images_blend_like_the_same_stack():
    weights = RNG.uniform(0, 1, (2, 4, 6, 9)).astype("float32")
    stack = RNG.uniform(0, 1, (2, 3, 4, 6, 3)).astype("float32")
    folded = stack.transpose(0, 2, 3, 1, 4).reshape(2, 4, 6, 9)  # frame i: 3i..3i+2
    layer = WeightBlending(3)
    np.testing.assert_allclose(
        layer([weights, folded, EXPOSURE]), layer([weights, stack, EXPOSURE]), rtol=1e-6
    )


def test_one_hot_weights_select_a_frame_and_zero_weights_give_zero():
    ldr = RNG.uniform(0, 1, (2, 3, 4, 4, 3)).astype("float32")
    radiance = _radiance(ldr, EXPOSURE)
    for frame in range(3):
        weights = np.zeros((2, 4, 4, 9), "float32")
        weights[..., 3 * frame : 3 * frame + 3] = 1.0
        out = WeightBlending(3)([weights, ldr, EXPOSURE])
        np.testing.assert_allclose(out, radiance[:, frame] / (1 + 1e-6), rtol=1e-5)
    zero = WeightBlending(3)([np.zeros((2, 4, 4, 9), "float32"), ldr, EXPOSURE])
    np.testing.assert_array_equal(zero, 0.0)


def test_wrong_weight_channels_are_refused():
    weights = keras.Input((None, None, 6))
    ldr = keras.Input((3, None, None, 3))
    exposure = keras.Input((3,))
    with pytest.raises(ValueError, match="3 \\* num_frames = 9"):
        WeightBlending(3)([weights, ldr, exposure])


def test_reflect_pad_matches_numpy_and_refuses_tiny_stacks():
    stack = RNG.uniform(0, 1, (1, 2, 8, 9, 3)).astype("float32")
    padded = StackReflectPad(3)(stack)
    expected = np.pad(stack, [(0, 0), (0, 0), (3, 3), (3, 3), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(padded, expected)
    with pytest.raises(tf.errors.InvalidArgumentError, match="exceed 6 pixels"):
        StackReflectPad(6)(stack[:, :, :6])
    with pytest.raises(ValueError, match="border"):
        StackReflectPad(-1)


def test_save_load_round_trip(tmp_path):
    ldr = keras.Input((3, None, None, 3), name="ldr")
    exposure = keras.Input((3,), name="exposure")
    weights = keras.Input((None, None, 9), name="weights")
    padded = StackReflectPad(2)(ldr)
    out = WeightBlending(3, epsilon=1e-4)([weights, padded, exposure])
    model = keras.Model([weights, ldr, exposure], out)
    inputs = [
        RNG.uniform(0, 1, (2, 6, 5, 9)).astype("float32"),
        RNG.uniform(0, 1, (2, 3, 6, 5, 3)).astype("float32"),
        EXPOSURE,
    ]
    model.save(tmp_path / "blend.keras")
    loaded = keras.saving.load_model(tmp_path / "blend.keras")
    np.testing.assert_allclose(loaded(inputs), model(inputs), rtol=1e-6)
