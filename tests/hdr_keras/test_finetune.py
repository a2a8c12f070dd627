"""Fine-tuning API: named parts, freeze/unfreeze, load_model."""

from __future__ import annotations

import fnmatch
import logging
import zipfile

import keras
import numpy as np
import pytest

import hdr_keras
from hdr_keras import finetune
from hdr_keras.losses import MuLawLoss
from hdr_keras.methods.ahdrnet import model as ahdrnet
from hdr_keras.methods.eilertsen import model as eilertsen
from tests.harness import count_params

VGG16_NOTOP_PARAMS = 14_714_688  # keras.applications.VGG16(include_top=False)
_BUILT: dict[str, keras.Model] = {}


def _built(method: str) -> keras.Model:
    """One default model per method for the read-only tests (built once)."""
    if method not in _BUILT:
        _BUILT[method] = hdr_keras.build_model(method)
    return _BUILT[method]


def _tiny_ahdrnet(name: str = "ahdrnet") -> keras.Model:
    return ahdrnet.build_ahdrnet(
        features=8, growth=4, dense_layers=2, blocks=2, name=name
    )


def _stack_batch(rng, batch=2, size=16):
    inputs = {
        "ldr": rng.uniform(0, 1, (batch, 3, size, size, 3)).astype("float32"),
        "exposure": np.tile(np.float32([-2.0, 0.0, 2.0]), (batch, 1)),
    }
    target = rng.uniform(0, 1, (batch, size, size, 3)).astype("float32")
    return inputs, target


@pytest.mark.parametrize("method", hdr_keras.list_methods())
def test_parts_cover_every_layer_with_weights(method):
    model = _built(method)
    spec = hdr_keras.get_method(method)
    if spec.training_free:  # classic methods: nothing to fine-tune
        assert not spec.parts and not model.weights
        return
    assert spec.parts, f"{method} defines no parts"
    covered = set()
    for part, patterns in spec.parts.items():
        matched = {
            layer.name
            for layer in model.layers
            if any(fnmatch.fnmatchcase(layer.name, p) for p in patterns)
        }
        assert matched, f"{method} part {part!r} matches no layer"
        covered |= matched
    with_weights = {layer.name for layer in model.layers if layer.trainable_weights}
    assert with_weights - covered == set()
    assert finetune.method_of(model) == method == model.name


def test_parts_are_read_only():
    with pytest.raises(TypeError):
        hdr_keras.get_method("ahdrnet").parts["new"] = ("x",)


def test_freeze_eilertsen_encoder_is_the_vgg16_convolutions(caplog):
    model = hdr_keras.build_model("eilertsen")
    before = count_params(model)
    with caplog.at_level(logging.INFO, logger="hdr_keras.finetune"):
        frozen = hdr_keras.freeze(model, "encoder")
    assert frozen == eilertsen.vgg16_layer_names()
    assert len(frozen) == 13
    assert before - count_params(model) == VGG16_NOTOP_PARAMS
    assert {layer.name for layer in model.layers if not layer.trainable} == set(frozen)
    assert "froze 13 layers" in caplog.text and "14714688 parameters" in caplog.text
    # The training view (loss on log-HDR) shares the layers, so it is frozen too.
    view = hdr_keras.get_method("eilertsen").loss_model(model)
    assert count_params(view) == before - VGG16_NOTOP_PARAMS

    assert hdr_keras.unfreeze(model) == [
        layer.name for layer in model.layers if layer.weights
    ]
    assert count_params(model) == before


def test_freeze_then_compile_and_fit_trains_only_the_rest():
    keras.utils.set_random_seed(1)
    model = hdr_keras.build_model("ahdrnet")
    inputs, target = _stack_batch(np.random.default_rng(0))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=MuLawLoss("l1"))
    with pytest.warns(UserWarning, match="compile"):
        frozen = hdr_keras.freeze(model, "encoder,attention")
    assert frozen == ["conv1", "attention0", "attention2"]
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss=MuLawLoss("l1"), jit_compile=False
    )
    before = {w.path: np.array(w) for w in model.weights}
    model.fit(inputs, target, batch_size=2, epochs=2, verbose=0)

    frozen_layers = [model.get_layer(name) for name in frozen]
    frozen_paths = {w.path for layer in frozen_layers for w in layer.weights}
    assert len(frozen_paths) == 2 + 2 * 4
    for weight in model.weights:
        changed = not np.array_equal(before[weight.path], np.array(weight))
        assert changed == (weight.path not in frozen_paths), weight.path


def test_unfreeze_parts_of_a_frozen_model():
    model = _tiny_ahdrnet()
    model.trainable = False
    assert hdr_keras.unfreeze(model, ["output"]) == ["conv_up", "conv_out"]
    assert {w.path.split("/")[0] for w in model.trainable_weights} == {
        "conv_up",
        "conv_out",
    }


def test_comma_string_and_list_select_the_same_layers():
    assert finetune.parse_parts(" encoder, attention,,encoder") == [
        "encoder",
        "attention",
    ]
    assert finetune.parse_parts(["drdb", "output,encoder"]) == [
        "drdb",
        "output",
        "encoder",
    ]
    a, b = _tiny_ahdrnet(), _tiny_ahdrnet()
    assert hdr_keras.freeze(a, "merge, output") == hdr_keras.freeze(
        b, ("merge", "output")
    )
    with pytest.raises(ValueError, match="no part names"):
        hdr_keras.freeze(a, " , ")


def test_unknown_part_lists_the_method_parts():
    model = _tiny_ahdrnet()
    with pytest.raises(ValueError) as error:
        hdr_keras.freeze(model, "encoder,latent")
    message = str(error.value)
    assert "'latent'" in message and "'ahdrnet'" in message
    for part in hdr_keras.get_method("ahdrnet").parts:
        assert part in message
    assert all(layer.trainable for layer in model.layers)  # nothing half-frozen


def test_method_of_needs_a_registry_name_or_method_argument():
    model = _tiny_ahdrnet(name="my_hdr")
    with pytest.raises(ValueError, match="'my_hdr'.*method="):
        finetune.method_of(model)
    with pytest.raises(ValueError, match="'my_hdr'"):
        hdr_keras.freeze(model, "encoder")
    assert hdr_keras.freeze(model, "encoder", method="ahdrnet") == ["conv1"]
    with pytest.raises(ValueError, match="unknown method 'hdrnet'"):
        hdr_keras.freeze(model, "encoder", method="hdrnet")
    # A part that matches nothing means the model is not that method.
    with pytest.raises(ValueError, match="matches no layer of model 'my_hdr'"):
        hdr_keras.freeze(model, "latent", method="eilertsen")


def test_load_model_from_file_and_training_folder(tmp_path):
    model = _tiny_ahdrnet()
    inputs, _ = _stack_batch(np.random.default_rng(1), batch=1)
    expected = model.predict(inputs, verbose=0)
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "final.keras")
    model.save(tmp_path / "other.keras")

    for path in (run, run / "final.keras", str(tmp_path / "other.keras")):
        loaded = hdr_keras.load_model(path)
        assert loaded.name == "ahdrnet"
        np.testing.assert_allclose(
            loaded.predict(inputs, verbose=0), expected, atol=1e-6
        )
    assert hdr_keras.freeze(loaded, "encoder") == ["conv1"]


def test_load_model_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        hdr_keras.load_model(tmp_path / "missing.keras")
    empty = tmp_path / "empty_run"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="empty_run.*final.keras"):
        hdr_keras.load_model(empty)
    export = tmp_path / "export"
    export.mkdir()
    (export / "saved_model.pb").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="SavedModel"):
        hdr_keras.load_model(export)

    text = tmp_path / "notes.keras"
    text.write_text("not a zip")
    with pytest.raises(ValueError, match="notes.keras.*not a Keras archive"):
        hdr_keras.load_model(text)
    weights = tmp_path / "model.h5"
    weights.write_bytes(b"\x89HDF\r\n")
    with pytest.raises(ValueError, match="model.h5"):
        hdr_keras.load_model(weights)
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("readme.txt", "no config")
    with pytest.raises(ValueError, match="broken.keras"):
        hdr_keras.load_model(broken)
