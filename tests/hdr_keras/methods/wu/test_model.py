"""Wu et al. 2018 (ResNet and U-Net variants): sizes, I/O domains, save/load, fit."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras
from hdr_keras.losses import MuLawLoss
from hdr_keras.methods.wu import model as wu
from hdr_keras.ops.tonemap import inverse_mu_law, mu_law
from tests.harness import count_params

RNG = np.random.default_rng(0)


def _conv(k: int, cin: int, cout: int) -> int:
    return k * k * cin * cout + cout


def _bn(channels: int) -> int:
    return 2 * channels  # gamma, beta (moving statistics are not trainable)


def _encoders(num_frames: int, f: int) -> int:
    return num_frames * (_conv(5, 6, f) + _conv(5, f, 2 * f) + _bn(2 * f))


def _expected_resnet(num_frames=3, f=64, res_blocks=9) -> int:
    """Trainable weights of the authors' ResNet generator (METHODS.md §2)."""
    total = _encoders(num_frames, f)
    total += _conv(5, num_frames * 2 * f, 4 * f) + _bn(4 * f)  # merger
    total += res_blocks * 2 * (_conv(3, 4 * f, 4 * f) + _bn(4 * f))
    total += _conv(5, 8 * f, 2 * f) + _bn(2 * f)  # deconv of concat(res, merger)
    total += _conv(5, 2 * f + num_frames * 2 * f, f) + _bn(f)
    total += _conv(5, f + num_frames * f, f) + _bn(f)
    return total + _conv(5, f, 3)


def _expected_unet(num_frames=3, f=64) -> int:
    """Trainable weights of the paper's U-Net with merger widths (256, 512)."""
    total = _encoders(num_frames, f)
    total += _conv(5, num_frames * 2 * f, 256) + _bn(256)
    total += _conv(5, 256, 512) + _bn(512)
    total += _conv(5, 512, 256) + _bn(256)  # deconv, then concat merger1 (256)
    total += _conv(5, 512, 2 * f) + _bn(2 * f)  # then concat all 2f encodings
    total += _conv(5, 2 * f + num_frames * 2 * f, f) + _bn(f)
    total += _conv(5, f + num_frames * f, f) + _bn(f)
    return total + _conv(5, f, 3)


def _inputs(num_frames=3, height=37, width=53, batch=1):
    return {
        "ldr": RNG.uniform(0, 1, (batch, num_frames, height, width, 3)).astype(
            "float32"
        ),
        "exposure": np.tile(np.arange(num_frames, dtype="float32") * 3, (batch, 1)),
    }


@pytest.fixture(scope="module")
def resnet():
    keras.utils.set_random_seed(3)
    return hdr_keras.build_model("wu_resnet")


def test_parameter_counts(resnet):
    assert count_params(resnet) == _expected_resnet() == 16_606_339
    unet = hdr_keras.build_model("wu_unet")
    assert count_params(unet) == _expected_unet() == 12_531_587


def test_odd_size_output_is_linear_hdr(resnet):
    inputs = _inputs()
    hdr = np.asarray(resnet(inputs))
    assert hdr.shape == (1, 37, 53, 3)
    assert np.all((hdr >= 0) & (hdr <= 1))
    tanh = keras.Model(resnet.input, resnet.get_layer("crop").output)(inputs)
    np.testing.assert_allclose(hdr, (np.asarray(tanh) + 1) / 2, rtol=1e-6)
    tonemapped = wu.tonemapped_model(resnet)(inputs)
    np.testing.assert_allclose(tonemapped, mu_law(hdr), rtol=1e-5, atol=1e-6)
    assert resnet(_inputs(height=9, width=9)).shape == (1, 9, 9, 3)  # smallest size


def test_input_features_are_the_official_signed_ones(resnet):
    inputs = _inputs(height=8, width=8)
    signed = keras.Model(resnet.input, resnet.get_layer("to_signed").output)(inputs)
    ldr, ev = inputs["ldr"], inputs["exposure"] - inputs["exposure"].min()
    hdr = ldr**2.2 / 2.0 ** ev[:, :, None, None, None]
    expected = np.concatenate([ldr, hdr], axis=-1) * 2 - 1
    np.testing.assert_allclose(signed, expected, rtol=1e-5, atol=1e-6)


def test_mu_law_output_domain():
    model = wu.build_wu_resnet(features=8, res_blocks=1, output_domain="mu_law")
    inputs = _inputs(height=13, width=10)
    tonemapped = np.asarray(wu.tonemapped_model(model)(inputs))
    np.testing.assert_allclose(model(inputs), inverse_mu_law(tonemapped), rtol=1e-5)
    with pytest.raises(ValueError, match="output_domain"):
        wu.build_wu_resnet(features=8, res_blocks=1, output_domain="log")


@pytest.mark.parametrize(
    "num_frames, reference, builder",
    [
        (2, None, wu.build_wu_resnet),
        (5, 0, wu.build_wu_resnet),
        (2, 1, wu.build_wu_unet),
        (5, 4, wu.build_wu_unet),
    ],
)
def test_frame_counts_and_references(num_frames, reference, builder):
    model = builder(num_frames, reference, features=8)
    if builder is wu.build_wu_resnet:
        expected = _expected_resnet(num_frames, 8)
    else:
        expected = count_params(model)  # widths differ from the formula's defaults
    assert count_params(model) == expected
    encoders = {l.name for l in model.layers if l.name.endswith("_conv1")}
    assert encoders == {f"encoder{i}_conv1" for i in range(1, num_frames + 1)}
    assert model(_inputs(num_frames, 19, 21, batch=2)).shape == (2, 19, 21, 3)


def test_unet_parameter_formula_small():
    model = wu.build_wu_unet(4, features=8, merger_channels=(16, 32))
    f, n = 8, 4
    expected = _encoders(n, f)
    expected += _conv(5, n * 2 * f, 16) + _bn(16) + _conv(5, 16, 32) + _bn(32)
    expected += _conv(5, 32, 16) + _bn(16) + _conv(5, 32, 2 * f) + _bn(2 * f)
    expected += _conv(5, 2 * f + n * 2 * f, f) + _bn(f)
    expected += _conv(5, f + n * f, f) + _bn(f) + _conv(5, f, 3)
    assert count_params(model) == expected


def test_invalid_arguments():
    with pytest.raises(ValueError, match="num_frames"):
        wu.build_wu_resnet(num_frames=1)
    with pytest.raises(ValueError, match="reference"):
        wu.build_wu_unet(num_frames=3, reference=-1)


def test_keras_save_load_equal(resnet, tmp_path):
    inputs = _inputs(height=21, width=17)
    path = tmp_path / "wu.keras"
    resnet.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(inputs), resnet(inputs), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        wu.tonemapped_model(loaded)(inputs),
        wu.tonemapped_model(resnet)(inputs),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("method", ["wu_resnet", "wu_unet"])
def test_fit_runs_on_tiny_batches(method):
    keras.utils.set_random_seed(1)
    spec = hdr_keras.get_method(method)
    small = {"res_blocks": 1} if method == "wu_resnet" else {"merger_channels": (16,)}
    model = spec.builder(features=4, **small)  # graph building dominates the time
    train_model = spec.loss_model(model)
    train_model.compile(
        optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        loss=MuLawLoss("l2", prediction="mu_law"),
        jit_compile=False,
    )
    inputs = _inputs(height=16, width=16, batch=4)
    target = RNG.uniform(0, 1, (4, 16, 16, 3)).astype("float32")
    history = train_model.fit(inputs, target, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
