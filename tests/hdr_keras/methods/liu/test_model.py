"""SingleHDR (Liu et al. 2020): sub-network sizes, pipeline, views, save/export."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import hdr_keras
from hdr_keras.methods.liu.constants import LIU_TAU_PAPER
from hdr_keras.methods.liu import model as liu
from hdr_keras.methods.liu import networks as liu_networks
from serving.export import export_model
from tests.harness import count_params

RNG = np.random.default_rng(0)


def conv(k, cin, cout, bias=True):
    return k * k * cin * cout + (cout if bias else 0)


def bn(c):
    return 2 * c  # gamma, beta (moving statistics are not trainable)


def _unet_params(widths, cin):
    """Official U-Net: 2 convs 7x7, 4 down blocks (5,3,3,3), 4 up blocks, out 3x3."""
    total = conv(7, cin, widths[0]) + conv(7, widths[0], widths[0])
    prev = widths[0]
    for width, k in zip(widths[1:], (5, 3, 3, 3)):
        total += conv(k, prev, width) + conv(k, width, width)
        prev = width
    for skip in reversed(widths[:-1]):
        total += conv(3, prev, skip) + conv(3, 2 * skip, skip)
        prev = skip
    return total + conv(3, prev, 3)


def _linearization_params(k=11):
    total = conv(7, 102, 64) + bn(64)
    cin = 64
    for blocks, width, out in ((3, 64, 256), (2, 128, 512)):
        for block in range(blocks):
            if block == 0:
                total += conv(1, cin, out, False) + bn(out)
            total += conv(1, cin, width, False) + bn(width)
            total += conv(3, width, width, False) + bn(width)
            total += conv(1, width, out, False) + bn(out)
            cin = out
    return total + 512 * k + k


def _hallucination_params():
    vgg = 14_714_688  # keras.applications.VGG16(include_top=False)
    total = vgg + conv(3, 512, 512) + bn(512)  # latent
    cin = 512
    for out, skip in zip((512, 512, 256, 128, 64), (512, 512, 256, 128, 64)):
        total += conv(3, cin, out) + bn(out) + conv(1, out + skip, out)
        cin = out
    return total + conv(1, 64, 3) + bn(3) + conv(1, 6, 3)


EXPECTED = {
    "dequantization": _unet_params((16, 32, 64, 128, 256), 3),
    "linearization": _linearization_params(),
    "hallucination": _hallucination_params(),
    "refinement": _unet_params((16, 32, 64, 128, 128), 9),
}


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(5)
    return hdr_keras.build_model("liu")


def test_sub_network_parameter_counts(model):
    for name, expected in EXPECTED.items():
        assert count_params(liu.submodel(model, name)) == expected, name
    assert EXPECTED == {
        "dequantization": 1_999_779,
        "linearization": 1_200_971,
        "hallucination": 24_569_118,
        "refinement": 1_266_947,
    }
    assert count_params(model) == sum(EXPECTED.values()) == 29_036_815


def test_structure_names_and_linearization_input(model):
    assert [layer.name for layer in model.layers] == [
        "ldr",
        "pad",
        "dequantization",
        "linearization",
        "apply_inverse_crf",
        "hallucination",
        "refinement",
        "hdr",
    ]
    lin = liu.submodel(model, "linearization")
    assert lin.get_layer("features").output.shape[-1] == 102
    assert lin.output.shape[-1] == 1024
    assert hdr_keras.get_method("liu").parts == {n: (n,) for n in liu.SUBMODELS}
    with pytest.raises(ValueError, match="valid: dequantization"):
        liu.submodel(model, "decoder")


def test_odd_size_pipeline_outputs(model):
    ldr = RNG.uniform(0, 1, (2, 45, 71, 3)).astype("float32")
    outputs = liu.joint_view(model)(ldr)
    for key in ("dequantized", "linear", "hallucinated", "hdr"):
        assert outputs[key].shape == (2, 45, 71, 3), key
    assert outputs["inverse_crf"].shape == (2, 1024)
    np.testing.assert_allclose(outputs["hdr"], model(ldr), rtol=1e-5, atol=1e-6)
    deq = np.asarray(outputs["dequantized"])
    assert deq.min() >= 0 and deq.max() <= 1
    curve = np.asarray(outputs["inverse_crf"])
    assert np.all(np.diff(curve, axis=1) >= -1e-7)
    # The last sample is a cumulative sum of 1023 increments divided by their float32
    # sum: exact to 2 * 1023 float32 roundoffs (1.2e-4); unnormalised curves are off
    # by O(1).
    np.testing.assert_allclose(
        curve[:, [0, -1]], [[0, 1]] * 2, atol=2 * 1023 * np.finfo(np.float32).eps / 2
    )
    # B is the predicted curve applied to C; A only adds to B; output >= 0.
    expected_linear = [
        np.interp(deq[i], np.linspace(0, 1, 1024), curve[i]) for i in range(2)
    ]
    np.testing.assert_allclose(outputs["linear"], expected_linear, atol=1e-5)
    assert np.all(np.asarray(outputs["hallucinated"]) >= outputs["linear"] - 1e-6)
    assert np.asarray(outputs["hdr"]).min() >= 0


def test_hallucination_only_changes_pixels_above_tau(model):
    hal = liu.submodel(model, "hallucination")
    linear = RNG.uniform(0, 0.85, (1, 40, 40, 3)).astype("float32")
    np.testing.assert_array_equal(hal(linear), linear)
    assert hal.get_layer("highlight_residual").tau == 0.88


def test_paper_tau_option():
    hal = liu_networks.build_hallucination(tau=LIU_TAU_PAPER)
    assert hal.get_layer("highlight_residual").tau == 0.95


def test_views_share_the_layers(model):
    view = liu.hallucination_view(model)
    ours = {id(w) for w in model.weights}
    assert {id(w) for w in view.weights} <= ours
    assert view.name == "liu"
    assert set(liu.linearization_view(model).output) == {"linear", "inverse_crf"}


def test_keras_save_load_equal(model, tmp_path):
    ldr = RNG.uniform(0, 1, (1, 40, 48, 3)).astype("float32")
    model.save(tmp_path / "liu.keras")
    loaded = hdr_keras.load_model(tmp_path / "liu.keras")
    np.testing.assert_allclose(loaded(ldr), model(ldr), rtol=1e-5, atol=1e-6)
    lin, loaded_lin = (
        liu.submodel(m, "linearization").get_layer("inverse_crf")
        for m in (model, loaded)
    )
    np.testing.assert_array_equal(loaded_lin.basis, lin.basis)


def test_a_sub_network_exports_alone(model, tmp_path):
    deq = liu.submodel(model, "dequantization")
    path = export_model(deq, tmp_path / "deq", "single")
    served = tf.saved_model.load(str(path)).signatures["serving_default"]
    ldr = RNG.uniform(0, 1, (1, 37, 50, 3)).astype("float32")
    np.testing.assert_allclose(
        served(ldr=tf.constant(ldr))["hdr"], deq(ldr), rtol=1e-5, atol=1e-6
    )


def test_vgg_weights_from_a_local_file(tmp_path, random_vgg16):
    path, vgg = random_vgg16
    hal = liu_networks.build_hallucination(vgg_weights=path)
    np.testing.assert_array_equal(
        hal.get_layer("block3_conv2").get_weights()[0],
        vgg.get_layer("block3_conv2").get_weights()[0],
    )
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        liu_networks.build_hallucination(vgg_weights=tmp_path / "missing.h5")
