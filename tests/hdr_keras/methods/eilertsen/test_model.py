"""HDRCNN (Eilertsen et al. 2017): structure, sizes, blending, save/load, VGG weights."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras
from hdr_keras.methods.eilertsen import model as eilertsen
from tests.harness import count_params

ODD_SHAPE = (1, 333, 517, 3)


def _expected_trainable_parameters() -> int:
    """Counts HDRCNN's trainable weights from its definition (METHODS.md §4)."""
    conv = lambda k, cin, cout: k * k * cin * cout + cout  # noqa: E731
    bn = lambda c: 2 * c  # noqa: E731  (gamma, beta; moving stats are not trainable)
    total, cin = 0, 3
    for num_convs, channels in eilertsen.VGG16_BLOCKS:
        for _ in range(num_convs):
            total += conv(3, cin, channels)
            cin = channels
    total += conv(3, 512, 512) + bn(512)  # latent
    skip_channels = [512, 512, 256, 128, 64]  # block5_conv3 ... block1_conv2
    for out, skip in zip(eilertsen.DECODER_CHANNELS, skip_channels):
        total += conv(4, cin, out) + bn(out)  # deconvolution
        total += conv(1, out + skip, out)  # fusion of the skip connection
        cin = out
    total += conv(1, 64, 3) + bn(3) + conv(1, 6, 3)  # output conv, BN, input skip
    return total


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    return hdr_keras.build_model("eilertsen")


def test_parameter_count(model):
    trainable = count_params(model)
    assert trainable == _expected_trainable_parameters() == 29_443_358


def test_odd_size_output_shape_and_blend(model):
    ldr = np.random.default_rng(0).uniform(0, 0.9, ODD_SHAPE).astype("float32")
    hdr = np.asarray(model(ldr))
    assert hdr.shape == ODD_SHAPE
    # Below the blend threshold the output is exactly the linearised input.
    np.testing.assert_allclose(hdr, ldr**2, rtol=1e-5, atol=1e-7)


def test_saturated_pixels_come_from_the_network(model):
    ldr = np.full((1, 64, 64, 3), 0.5, "float32")
    ldr[:, 20:40, 20:40, :] = 1.0
    hdr = np.asarray(model(ldr))
    log_hdr = np.asarray(eilertsen.log_hdr_model(model)(ldr))
    inside = hdr[:, 25:35, 25:35]
    np.testing.assert_allclose(
        inside, np.exp(log_hdr[:, 25:35, 25:35]) - 1 / 255, rtol=1e-4
    )


def test_keras_save_load_equal(model, tmp_path):
    ldr = np.random.default_rng(1).uniform(0, 1, (1, 45, 71, 3)).astype("float32")
    path = tmp_path / "eilertsen.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(ldr), model(ldr), rtol=1e-5, atol=1e-6)
    assert loaded.get_layer(eilertsen.LOG_HDR_LAYER) is not None


def test_vgg_weights_from_local_file(tmp_path, random_vgg16):
    path, vgg = random_vgg16
    model = eilertsen.build_eilertsen(vgg_weights=path)
    for name in eilertsen.vgg16_layer_names():
        for mine, theirs in zip(
            model.get_layer(name).get_weights(), vgg.get_layer(name).get_weights()
        ):
            np.testing.assert_array_equal(mine, theirs)


def test_missing_vgg_weights_file_is_named(tmp_path):
    missing = tmp_path / "nope.h5"
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        eilertsen.build_eilertsen(vgg_weights=missing)


def test_registry_unknown_method_lists_valid_names():
    with pytest.raises(ValueError, match="valid methods: .*eilertsen"):
        hdr_keras.build_model("hdrcnnn")
