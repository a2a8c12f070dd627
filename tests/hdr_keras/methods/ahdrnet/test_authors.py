"""AHDRNet: the authors' PyTorch state_dict (legacy and zip) -> `ahdrnet`."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import hdr_keras
from hdr_keras.authors import AuthorsWeightsError, load_authors_weights

from tests.hdr_keras.authors.authors_helpers import TOLERANCE, assert_matches_reference
from tests.hdr_keras.authors.authors_helpers import reference_dir
from tests.hdr_keras.io.torch_writer import write_legacy, write_zip


def authors_state(seed: int = 0) -> dict[str, np.ndarray]:
    """A random state_dict with the keys and shapes of the authors' `AHDR`
    (nChannel=6, nDenselayer=6, nFeat=64, growthRate=32), incl. attConv1/3."""
    rng = np.random.default_rng(seed)
    shapes = {
        "conv1": (64, 6, 3),
        "conv2": (64, 192, 3),
        "att11": (128, 128, 3),
        "att12": (64, 128, 3),
        "attConv1": (64, 64, 3),
        "att31": (128, 128, 3),
        "att32": (64, 128, 3),
        "attConv3": (64, 64, 3),
    }
    for b in (1, 2, 3):
        for i in range(6):
            shapes[f"RDB{b}.dense_layers.{i}.conv"] = (32, 64 + 32 * i, 3)
        shapes[f"RDB{b}.conv_1x1"] = (64, 256, 1)
    shapes.update(
        {
            "GFF_1x1": (64, 192, 1),
            "GFF_3x3": (64, 64, 3),
            "conv_up": (64, 64, 3),
            "conv3": (3, 64, 3),
        }
    )
    state = {}
    for key, (out, inp, k) in shapes.items():
        scale = np.sqrt(1.0 / (inp * k * k))  # PyTorch's default init scale
        state[f"{key}.weight"] = rng.uniform(-scale, scale, (out, inp, k, k))
        state[f"{key}.bias"] = rng.uniform(-0.1, 0.1, out)
    return {k: v.astype(np.float32) for k, v in state.items()}


def stack_inputs(seed: int = 1, height: int = 20, width: int = 28) -> dict:
    rng = np.random.default_rng(seed)
    ldr = rng.uniform(0, 1, (1, 3, height, width, 3)).astype(np.float32)
    return {"ldr": ldr, "exposure": np.array([[0.0, 2.0, 4.0]], np.float32)}


def predict(model, inputs) -> np.ndarray:
    return np.asarray(model.predict(inputs, verbose=0))


@pytest.mark.parametrize("filename", ["ahdr_model.pt", "ahdr_model_zip.pt"])
def test_equals_authors_code(shared_data, filename):
    """Raw network (transpose=False) = the authors' model.py on the fixture.
    Measured: 1.5e-7 for both files (outputs are sigmoids in (0, 1))."""
    folder = reference_dir(shared_data, "ahdrnet")
    ref = np.load(folder / "ref.npz")
    model = load_authors_weights("ahdrnet", folder / filename, transpose=False)
    inputs = {"ldr": ref["ldr"][None], "exposure": ref["ev"][None]}
    assert_matches_reference(predict(model, inputs)[0], ref["hdr"], filename)


def test_transpose_equals_raw_network_on_transposed_image(tmp_path):
    """transpose=True on X = transpose(raw network on transpose(X)): the spatial
    transpose the authors' HDF5 pipeline applied, undone in the weights."""
    path = tmp_path / "ahdr_model.pt"
    write_legacy(path, authors_state(), rebuild="_rebuild_tensor")  # PyTorch 0.3
    raw = load_authors_weights("ahdrnet", path, transpose=False)
    swapped = load_authors_weights("ahdrnet", path)  # transpose=True by default
    inputs = stack_inputs()
    transposed = {**inputs, "ldr": np.swapaxes(inputs["ldr"], 2, 3)}
    expected = np.swapaxes(predict(raw, transposed), 1, 2)
    actual = predict(swapped, inputs)
    # Same float32 function, summation order changed by the swapped kernels.
    np.testing.assert_allclose(actual, expected, atol=TOLERANCE)
    assert np.abs(actual - predict(raw, inputs)).max() > 100 * TOLERANCE


def test_errors_name_file_and_tensor(tmp_path):
    state = authors_state()
    cases = {
        "missing": (
            {k: v for k, v in state.items() if k != "att12.bias"},
            "att12.bias",
        ),
        "shape": (
            {**state, "conv2.weight": state["conv2.weight"][:, :64]},
            "conv2.weight",
        ),
        "extra": ({**state, "conv4.weight": state["conv3.weight"]}, "conv4.weight"),
    }
    for case, (tensors, name) in cases.items():
        path = tmp_path / f"{case}.pt"
        write_zip(path, tensors)
        with pytest.raises(AuthorsWeightsError, match=rf"{case}\.pt: .*{name}"):
            load_authors_weights("ahdrnet", path)
    # attConv1/attConv3 (never used by the authors' forward) may be absent too.
    path = tmp_path / "no_att_conv.pt"
    write_zip(path, {k: v for k, v in state.items() if "attConv" not in k})
    load_authors_weights("ahdrnet", path)
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(AuthorsWeightsError, match=r"notes\.pt"):
        load_authors_weights("ahdrnet", text)
    with pytest.raises(AuthorsWeightsError, match="3 frames"):
        load_authors_weights("ahdrnet", path, num_frames=5)


def test_loaded_model_saves_loads_and_freezes(tmp_path):
    path = tmp_path / "ahdr_model.pt"
    write_zip(path, authors_state())
    model = load_authors_weights("ahdrnet", path)
    inputs = stack_inputs(height=12, width=16)
    expected = predict(model, inputs)
    model.save(tmp_path / "ahdrnet.keras")
    restored = hdr_keras.load_model(tmp_path / "ahdrnet.keras")
    np.testing.assert_array_equal(predict(restored, inputs), expected)
    before = sum(int(np.prod(w.shape)) for w in restored.trainable_weights)
    hdr_keras.freeze(restored, "attention")
    after = sum(int(np.prod(w.shape)) for w in restored.trainable_weights)
    assert after < before
    assert isinstance(restored, keras.Model)
