"""AHDRNet (Yan et al. 2019): size, shapes, frame counts, save/load, training."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import hdr_keras
from hdr_keras.losses import MuLawLoss
from hdr_keras.methods.ahdrnet import model as ahdrnet
from tests.harness import count_params

RNG = np.random.default_rng(0)


def _conv(k: int, cin: int, cout: int) -> int:
    return k * k * cin * cout + cout


def _expected_trainable_parameters(
    num_frames=3, features=64, growth=32, dense_layers=6, blocks=3
) -> int:
    """Counts AHDRNet's trainable weights from its definition (METHODS.md §3)."""
    f = features
    total = _conv(3, 6, f)  # shared conv1
    total += (num_frames - 1) * (_conv(3, 2 * f, 2 * f) + _conv(3, 2 * f, f))
    total += _conv(3, num_frames * f, f)  # merge
    drdb = sum(_conv(3, f + i * growth, growth) for i in range(dense_layers))
    drdb += _conv(1, f + dense_layers * growth, f)
    total += blocks * drdb
    total += _conv(1, blocks * f, f) + _conv(3, f, f)  # global feature fusion
    total += _conv(3, f, f) + _conv(3, f, 3)  # conv_up, conv_out
    return total


def _inputs(num_frames=3, height=37, width=53, batch=1):
    return {
        "ldr": RNG.uniform(0, 1, (batch, num_frames, height, width, 3)).astype(
            "float32"
        ),
        "exposure": np.tile(np.arange(num_frames, dtype="float32") * 2.0, (batch, 1)),
    }


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(5)
    return hdr_keras.build_model("ahdrnet")


def test_parameter_count(model):
    assert count_params(model) == _expected_trainable_parameters() == 1_441_283
    assert not model.non_trainable_weights


def test_odd_size_output_shape_and_range(model):
    hdr = np.asarray(model(_inputs()))
    assert hdr.shape == (1, 37, 53, 3)
    assert np.all((hdr >= 0) & (hdr <= 1))  # sigmoid: linear HDR in [0, 1]


@pytest.mark.parametrize("num_frames, reference", [(2, None), (2, 0), (5, 0), (5, 3)])
def test_frame_counts_and_references(num_frames, reference):
    model = ahdrnet.build_ahdrnet(num_frames, reference, features=8, growth=4)
    expected = _expected_trainable_parameters(num_frames, features=8, growth=4)
    assert count_params(model) == expected
    assert model(_inputs(num_frames, 11, 13, batch=2)).shape == (2, 11, 13, 3)
    ref = ahdrnet.check_stack_arguments(num_frames, reference)
    attention = {l.name for l in model.layers if l.name.startswith("attention")}
    assert attention == {f"attention{i}" for i in range(num_frames) if i != ref}


def test_reference_features_feed_the_global_residual():
    model = ahdrnet.build_ahdrnet(3, reference=0, features=8, growth=4)
    residual = model.get_layer("global_residual")
    assert residual.input[1] is model.get_layer("conv1_lrelu0").output


def test_invalid_arguments():
    with pytest.raises(ValueError, match="num_frames"):
        ahdrnet.build_ahdrnet(1)
    with pytest.raises(ValueError, match="reference"):
        ahdrnet.build_ahdrnet(3, reference=3)


def test_keras_save_load_equal(model, tmp_path):
    inputs = _inputs(height=19, width=23)
    path = tmp_path / "ahdrnet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(inputs), model(inputs), rtol=1e-5, atol=1e-6)


def test_fit_runs_on_tiny_batches():
    keras.utils.set_random_seed(1)
    model = ahdrnet.build_ahdrnet(features=8, growth=4, dense_layers=2, blocks=1)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4), loss=MuLawLoss("l1"), jit_compile=False
    )
    inputs = _inputs(height=16, width=16, batch=4)
    target = RNG.uniform(0, 1, (4, 16, 16, 3)).astype("float32")
    history = model.fit(inputs, target, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
