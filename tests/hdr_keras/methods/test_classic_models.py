"""The classic methods in the registry: specs, layers, .keras round trips, training."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras
from hdr_keras.methods.debevec import core as debevec
from hdr_keras.methods.mertens import core as mertens
from hdr_keras.methods.debevec import DebevecMerge
from hdr_keras.methods.inverse_curve import InverseCurve
from hdr_keras.methods.mertens import ExposureFusion
from hdr_keras.ops.highlight import linearize_hdrcnn
from hdr_keras.spec import DISPLAY, LINEAR, SINGLE, STACK

CLASSICS = {"debevec": STACK, "mertens": STACK, "inverse_curve": SINGLE}


def inputs_for(method: str, frames: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    if CLASSICS[method] == SINGLE:
        return rng.uniform(0, 1, (2, 11, 13, 3)).astype("float32")
    ldr = rng.uniform(0, 1, (2, frames, 11, 13, 3)).astype("float32")
    exposure = np.tile(np.arange(frames, dtype="float32") * 2, (2, 1))
    return {"ldr": ldr, "exposure": exposure}


@pytest.mark.parametrize("method", sorted(CLASSICS))
def test_registry_entries_are_training_free(method):
    spec = hdr_keras.get_method(method)
    assert spec.training_free and not spec.parts
    assert spec.input_kind == CLASSICS[method]
    assert spec.output_kind == (DISPLAY if method == "mertens" else LINEAR)
    assert spec.whole_image == (method != "inverse_curve")
    model = hdr_keras.build_model(method)
    assert model.name == method and not model.weights


def test_trained_methods_are_not_training_free():
    for name in ("eilertsen", "ahdrnet", "wu_resnet"):
        spec = hdr_keras.get_method(name)
        assert not spec.training_free and spec.output_kind == LINEAR


@pytest.mark.parametrize("method", sorted(CLASSICS))
def test_keras_file_round_trip(method, tmp_path):
    model = hdr_keras.build_model(method)
    inputs = inputs_for(method)
    expected = np.asarray(model(inputs))
    assert expected.shape == (2, 11, 13, 3) and np.all(np.isfinite(expected))
    model.save(tmp_path / f"{method}.keras")
    loaded = keras.saving.load_model(tmp_path / f"{method}.keras")
    np.testing.assert_allclose(loaded(inputs), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "layer",
    [
        DebevecMerge(samples=64, smoothness=10.0, sampling="grossberg"),
        ExposureFusion(exposure_weight=0.5, clip=False),
        InverseCurve(exponent=2.2),
    ],
)
def test_layer_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_debevec_model_equals_the_functions_for_each_stack_and_any_n():
    model = hdr_keras.build_model("debevec")
    for frames in (2, 4):
        inputs = inputs_for("debevec", frames, seed=frames)
        hdr = np.asarray(model(inputs))
        for b in range(2):
            expected = debevec.debevec_hdr(inputs["ldr"][b], inputs["exposure"][b])
            np.testing.assert_allclose(hdr[b], expected, rtol=1e-5)


def test_mertens_model_is_clipped_fusion_and_ignores_exposures():
    model = hdr_keras.build_model("mertens")
    inputs = inputs_for("mertens")
    fused = np.asarray(model(inputs))
    np.testing.assert_allclose(
        fused, np.clip(mertens.exposure_fusion(inputs["ldr"]), 0, 1), atol=1e-6
    )
    other = dict(inputs, exposure=inputs["exposure"] * 3)
    np.testing.assert_allclose(model(other), fused)


def test_inverse_curve_model_is_hdrcnn_linearisation():
    model = hdr_keras.build_model("inverse_curve")
    ldr = inputs_for("inverse_curve")
    np.testing.assert_allclose(model(ldr), linearize_hdrcnn(ldr), rtol=1e-6)
    np.testing.assert_allclose(model(ldr), ldr**2, rtol=1e-6)


def test_bad_layer_arguments_are_named():
    with pytest.raises(ValueError, match="sampling"):
        DebevecMerge(sampling="random")
    with pytest.raises(ValueError, match="samples"):
        DebevecMerge(samples=1)


def test_training_main_refuses_training_free_methods(tmp_path):
    from training import main as training_main

    flags = training_main.FLAGS
    flags(["training.main", "--method=debevec", f"--model_dir={tmp_path}"])
    try:
        with pytest.raises(training_main.UserError, match="nothing to train"):
            training_main.run()
    finally:
        flags.unparse_flags()
    assert not any(tmp_path.iterdir())
