"""Kalantari: the authors' MatConvNet network -> `kalantari_we` / `kalantari_direct`."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import hdr_keras
from hdr_keras.authors import AuthorsWeightsError, load_authors_weights
from hdr_keras.methods.kalantari.authors import input_permutation

from tests.hdr_keras.authors.authors_helpers import assert_matches_reference, reference_dir
from tests.hdr_keras.io.test_matconvnet import write_simplenn

BORDER = 6  # pixels lost per side by the valid 7x7, 5x5, 3x3 convolutions
SHAPES = ((7, 18, 100), (5, 100, 100), (3, 100, 50))


def random_layers(outputs: int, seed: int = 0) -> list[dict]:
    """A SimpleNN net as `CreateNet.m` (K = `outputs`), random weights."""
    rng = np.random.default_rng(seed)
    layers = []
    for k, cin, cout in SHAPES + ((1, 50, outputs),):
        scale = np.sqrt(3.0 / (k * k * cin))
        kernel = rng.uniform(-scale, scale, (k, k, cin, cout)).astype(np.float32)
        bias = rng.uniform(-0.1, 0.1, (1, cout)).astype(np.float32)
        layers.append({"type": "conv", "weights": [kernel, bias]})
        layers.append({"type": "relu"})
    layers[-1] = {"type": "sigmoid"}
    return layers


def authors_forward(layers, ldr, ev):
    """The authors' EvaluateNet on [Z1 Z2 Z3 H1 H2 H3] in float64 (as the tools'
    transcription of vl_nnconv: valid cross-correlation)."""
    ldr = ldr.astype(np.float64)
    hdr = [np.clip(ldr[i], 0, 1) ** 2.2 / 2.0 ** (ev[i] - ev.min()) for i in range(3)]
    x = np.concatenate([ldr[0], ldr[1], ldr[2], *hdr], axis=-1)
    for layer in layers:
        if layer["type"] == "conv":
            w, b = (np.asarray(a, np.float64) for a in layer["weights"])
            kh, kw = w.shape[:2]
            ho, wo = x.shape[0] - kh + 1, x.shape[1] - kw + 1
            y = np.zeros((ho, wo, w.shape[3]))
            for u in range(kh):
                for v in range(kw):
                    y += x[u : u + ho, v : v + wo, :] @ w[u, v]
            x = y + b.reshape(-1)
        elif layer["type"] == "relu":
            x = np.maximum(x, 0)
        else:
            x = 1 / (1 + np.exp(-x))
    return x


def predict_valid(model, ldr, ev) -> np.ndarray:
    """The model's output where the authors' valid network has one."""
    out = model.predict({"ldr": ldr[None], "exposure": ev[None]}, verbose=0)[0]
    return out[BORDER:-BORDER, BORDER:-BORDER]


def test_input_permutation():
    # hdr-keras per frame [Z1 H1 Z2 H2 Z3 H3] <- authors' [Z1 Z2 Z3 H1 H2 H3]
    expected = [0, 1, 2, 9, 10, 11, 3, 4, 5, 12, 13, 14, 6, 7, 8, 15, 16, 17]
    assert input_permutation(3).tolist() == expected


def test_we_equals_authors_code_on_trained_network(shared_data):
    """Trained WE network on a real bracket vs the float64 transcription of the
    authors' MATLAB: HDR and the 9 blend weights. Measured: hdr 3.0e-5, weights
    4.1e-5: float32 rounding of this trained network's pre-activations (up to
    ~320 in conv3; the same numpy forward pass in float32 vs float64 already
    differs by 1.2e-5), inside the 1e-4 bound."""
    folder = reference_dir(shared_data, "kalantari_we")
    ref = np.load(folder / "ref.npz")
    model = load_authors_weights("kalantari_we", folder / "Net.mat", align=False)
    hdr = predict_valid(model, ref["ldr"], ref["ev"])
    assert_matches_reference(hdr, ref["hdr"], "kalantari_we hdr")
    weights_model = keras.Model(model.input, model.get_layer("output").output)
    weights = predict_valid(weights_model, ref["ldr"], ref["ev"])
    assert_matches_reference(weights, ref["weights"], "kalantari_we weights")


def test_direct_equals_authors_forward(tmp_path):
    """Direct variant (K = 3, the sigmoid output is the HDR image) on random
    weights vs the float64 forward pass on the authors' channel order."""
    layers = random_layers(3)
    path = tmp_path / "Net.mat"
    write_simplenn(path, layers)
    rng = np.random.default_rng(1)
    ldr = rng.uniform(0, 1, (3, 24, 30, 3)).astype(np.float32)
    ev = np.array([0.0, 2.0, 4.0], np.float32)
    model = load_authors_weights("kalantari_direct", path, align=False)
    expected = authors_forward(layers, ldr, ev)
    assert_matches_reference(predict_valid(model, ldr, ev), expected, "direct")


def test_wie_is_refused(tmp_path):
    path = tmp_path / "Net.mat"
    write_simplenn(path, random_layers(18))
    with pytest.raises(AuthorsWeightsError, match="WE system only"):
        load_authors_weights("kalantari_wie", path)


def test_errors_name_file_and_tensor(tmp_path):
    layers = random_layers(9)
    wrong = [dict(l) for l in layers]
    wrong[2] = {"type": "conv", "weights": [layers[2]["weights"][0][:, :, :90]]}
    wrong[2]["weights"].append(layers[2]["weights"][1])
    extra = [dict(l) for l in layers]
    extra[0] = {"type": "conv", "weights": [*layers[0]["weights"], np.ones(3)]}
    cases = {
        "shape": (wrong, r"net\.layers\{3\}\.weights\{1\} has shape \[5, 5, 90, 100\]"),
        "extra": (extra, r"unused tensor net\.layers\{1\}\.weights\{3\}"),
        "short": (layers[:6], r"not the authors' network"),
    }
    for case, (case_layers, message) in cases.items():
        path = tmp_path / f"{case}.mat"
        write_simplenn(path, case_layers)
        with pytest.raises(AuthorsWeightsError, match=rf"{case}\.mat: .*{message}"):
            load_authors_weights("kalantari_we", path)
    direct = tmp_path / "direct.mat"
    write_simplenn(direct, random_layers(3))
    with pytest.raises(AuthorsWeightsError, match=r"direct\.mat: .*weights\{1\}"):
        load_authors_weights("kalantari_we", direct)  # a Direct net is not a WE


def test_loaded_model_saves_loads_and_freezes(tmp_path):
    path = tmp_path / "Net.mat"
    write_simplenn(path, random_layers(9))
    model = load_authors_weights("kalantari_we", path, align=False)
    rng = np.random.default_rng(2)
    inputs = {
        "ldr": rng.uniform(0, 1, (1, 3, 20, 22, 3)).astype(np.float32),
        "exposure": np.array([[0.0, 3.0, 6.0]], np.float32),
    }
    expected = model.predict(inputs, verbose=0)
    model.save(tmp_path / "we.keras")
    restored = hdr_keras.load_model(tmp_path / "we.keras")
    np.testing.assert_array_equal(restored.predict(inputs, verbose=0), expected)
    hdr_keras.freeze(restored, "convs")
    assert [w.name for w in restored.trainable_weights] == ["kernel", "bias"]
