"""Kalantari & Ramamoorthi 2017: sizes, padding, blending, views, save/load, export."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras
from hdr_keras.losses import mu_law_l2
from hdr_keras.methods import kalantari
from hdr_keras.spec import STACK
from tests.harness import count_params

RNG = np.random.default_rng(0)
PUBLISHED = {"direct": 383_603, "we": 383_909, "wie": 384_368}


def _conv(k: int, cin: int, cout: int) -> int:
    return k * k * cin * cout + cout


def _expected_parameters(outputs: int, frames: int = 3) -> int:
    """METHODS.md §1: 7x7 6N->100, 5x5 100->100, 3x3 100->50, 1x1 50->K."""
    return (_conv(7, 6 * frames, 100) + _conv(5, 100, 100) + _conv(3, 100, 50)) + _conv(
        1, 50, outputs
    )


def _last_hidden(model, inputs):
    """Eager forward pass to conv3: concat over frames of (Z_i, H_i), three convs."""
    times = 2.0 ** (inputs["exposure"] - inputs["exposure"].min(1, keepdims=True))
    radiance = inputs["ldr"] ** 2.2 / times[:, :, None, None, None]
    x = np.concatenate(
        [np.concatenate([inputs["ldr"][:, i], radiance[:, i]], -1) for i in range(3)],
        -1,
    )
    for name in ("conv1", "conv2", "conv3"):
        x = model.get_layer(name)(x)
    return x


def _frames(folded):
    """[B, h, w, 9] -> [B, 3, h, w, 3] (frame i in channels 3i..3i+2)."""
    b, h, w, _ = folded.shape
    return np.asarray(folded).reshape(b, h, w, 3, 3).transpose(0, 3, 1, 2, 4)


def _inputs(height=23, width=29, batch=1):
    return {
        "ldr": RNG.uniform(0, 1, (batch, 3, height, width, 3)).astype("float32"),
        "exposure": np.tile(np.float32([0.0, 2.0, 4.0]), (batch, 1)),
    }


@pytest.mark.parametrize("variant,outputs", [("direct", 3), ("we", 9), ("wie", 18)])
def test_parameter_counts(variant, outputs):
    model = hdr_keras.build_model(f"kalantari_{variant}")
    assert count_params(model) == _expected_parameters(outputs) == PUBLISHED[variant]
    assert not model.non_trainable_weights
    assert hdr_keras.get_method(f"kalantari_{variant}").input_kind == STACK
    assert model.name == f"kalantari_{variant}"


def test_initialisation_is_uniform_fan_in_and_zero_bias():
    keras.utils.set_random_seed(2)
    model = kalantari.build_kalantari("wie", align=False)
    for name, k, cin in [("conv1", 7, 18), ("conv2", 5, 100), ("conv3", 3, 100)]:
        kernel, bias = model.get_layer(name).get_weights()
        limit = np.sqrt(3.0 / (k * k * cin))
        assert np.abs(kernel).max() <= limit
        assert np.abs(kernel).max() > 0.95 * limit  # uniform, not normal
        assert abs(kernel.std() - limit / np.sqrt(3)) < 0.05 * limit
        np.testing.assert_array_equal(bias, 0.0)


@pytest.mark.parametrize("variant", kalantari.VARIANTS)
def test_valid_padding_loses_6_pixels_per_side_in_the_training_view(variant):
    model = kalantari.build_kalantari(variant, align=False)
    inputs = _inputs(23, 29, batch=2)
    assert model(inputs).shape == (2, 23, 29, 3)  # reflect-padded first
    view = kalantari.training_model(model)
    assert view(inputs).shape == (2, 11, 17, 3)
    assert view.name == model.name and count_params(view) == count_params(model)
    assert {id(w) for w in view.weights} == {id(w) for w in model.weights}
    # The padded model equals the view on the reflect-padded stack.
    padded = np.pad(inputs["ldr"], [(0, 0), (0, 0), (6, 6), (6, 6), (0, 0)], "reflect")
    np.testing.assert_allclose(
        model(inputs), view({**inputs, "ldr": padded}), rtol=1e-5, atol=1e-6
    )


def test_same_padding_keeps_the_size_without_reflect_padding():
    model = kalantari.build_kalantari("we", padding="same", align=False)
    assert kalantari.PAD_LAYER not in [layer.name for layer in model.layers]
    assert kalantari.training_model(model)(_inputs(15, 17)).shape == (1, 15, 17, 3)


def test_we_output_is_the_blend_of_the_cropped_aligned_frames():
    model = kalantari.build_kalantari("we", align=False)
    view = kalantari.training_model(model)
    inputs = _inputs(20, 22)
    weights = _frames(model.get_layer("output")(_last_hidden(model, inputs)))
    times = 2.0 ** inputs["exposure"][0]
    radiance = inputs["ldr"][:, :, 6:-6, 6:-6] ** 2.2 / times[None, :, None, None, None]
    expected = (weights * radiance).sum(1) / (weights.sum(1) + 1e-6)
    np.testing.assert_allclose(view(inputs), expected, rtol=1e-4, atol=1e-7)


def test_wie_blends_its_refined_images_and_exposes_them():
    model = kalantari.build_kalantari("wie", align=False)
    inputs = _inputs(18, 20)
    refined = kalantari.refined_images_model(model)(inputs).numpy()
    assert refined.shape == (1, 6, 8, 9) and 0 <= refined.min() <= refined.max() <= 1
    hidden = _last_hidden(model, inputs)
    np.testing.assert_allclose(refined, model.get_layer("refine")(hidden), rtol=1e-5)
    a = _frames(model.get_layer("output")(hidden))
    times = 2.0 ** inputs["exposure"][0]
    radiance = _frames(refined) ** 2.2 / times[None, :, None, None, None]
    expected = (a * radiance).sum(1) / (a.sum(1) + 1e-6)
    view = kalantari.training_model(model)
    np.testing.assert_allclose(view(inputs), expected, rtol=1e-4, atol=1e-7)
    with pytest.raises(ValueError, match="refined images"):
        kalantari.refined_images_model(kalantari.build_kalantari("we", align=False))


def test_refine_targets_fold_frames_like_the_refined_images():
    ldr = RNG.uniform(0, 1, (2, 3, 4, 5, 3)).astype("float32")
    folded = kalantari.refine_targets({"ldr": ldr}, None).numpy()
    assert folded.shape == (2, 4, 5, 9)
    for i in range(3):
        np.testing.assert_array_equal(folded[..., 3 * i : 3 * i + 3], ldr[:, i])


def test_cropped_l2_loss_crops_the_target_to_the_prediction():
    target = RNG.uniform(0, 1, (2, 16, 18, 3)).astype("float32")
    prediction = RNG.uniform(0, 1, (2, 4, 6, 3)).astype("float32")
    cropped = target[:, 6:10, 6:12]
    loss = kalantari.CroppedL2Loss("mu_law")(target, prediction)
    np.testing.assert_allclose(loss, mu_law_l2(cropped, prediction), rtol=1e-6)
    linear = kalantari.CroppedL2Loss("linear")(target, prediction)
    np.testing.assert_allclose(linear, np.mean((prediction - cropped) ** 2), rtol=1e-5)
    config = kalantari.CroppedL2Loss("linear").get_config()
    assert kalantari.CroppedL2Loss.from_config(config).domain == "linear"
    with pytest.raises(ValueError, match="domain"):
        kalantari.CroppedL2Loss("l1")


def test_bad_arguments_and_foreign_models_are_refused():
    with pytest.raises(ValueError, match="variant"):
        kalantari.build_kalantari("wide")
    with pytest.raises(ValueError, match="padding"):
        kalantari.build_kalantari("we", padding="reflect")
    with pytest.raises(ValueError, match="not a Kalantari network"):
        kalantari.training_model(keras.Sequential([keras.Input((4,))], name="x"))


def test_serving_model_aligns_any_size_and_saves_and_loads(tmp_path):
    # WIE uses every layer. SavedModel equality: tests/serving/test_export_methods.py
    # (all three variants) and tests/training/test_kalantari.py (after training).
    keras.utils.set_random_seed(4)
    model = hdr_keras.build_model("kalantari_wie")
    assert kalantari.ALIGNMENT_LAYER in [layer.name for layer in model.layers]
    inputs = _inputs(26, 31)
    expected = model(inputs).numpy()
    assert expected.shape == (1, 26, 31, 3) and np.all(np.isfinite(expected))
    # The alignment runs: the output differs from the network on the raw stack.
    unaligned = kalantari.build_kalantari("wie", align=False)
    unaligned.set_weights(model.get_weights())
    assert not np.allclose(unaligned(inputs), expected, atol=1e-4)

    model.save(tmp_path / "model.keras")
    loaded = hdr_keras.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded(inputs), expected, rtol=1e-5, atol=1e-6)
