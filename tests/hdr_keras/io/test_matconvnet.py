"""hdr_keras.io.matconvnet: MatConvNet SimpleNN networks read with scipy.io."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from hdr_keras.io.matconvnet import read_matconvnet_layers
from hdr_keras.io.weight_files import WeightsFileError


def write_simplenn(path, layers) -> None:
    """`net.layers` as MATLAB saves a SimpleNN network: a 1 x L cell of structs."""
    cells = np.empty((1, len(layers)), dtype=object)
    for i, layer in enumerate(layers):
        struct = {"type": layer["type"]}
        if "weights" in layer:
            weights = np.empty((1, len(layer["weights"])), dtype=object)
            for j, w in enumerate(layer["weights"]):
                weights[0, j] = w
            struct.update(weights=weights, stride=1.0, pad=0.0)
        cells[0, i] = struct
    scipy.io.savemat(path, {"net": {"layers": cells}})


def test_reads_layers(tmp_path):
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 4, 5)).astype(np.float32)
    bias = rng.normal(size=(1, 5)).astype(np.float32)
    path = tmp_path / "Net.mat"
    write_simplenn(
        path, [{"type": "conv", "weights": [kernel, bias]}, {"type": "sigmoid"}]
    )
    layers = read_matconvnet_layers(path)
    assert [l.type for l in layers] == ["conv", "sigmoid"]
    np.testing.assert_array_equal(layers[0].weights[0], kernel)
    np.testing.assert_array_equal(layers[0].weights[1], bias)
    assert layers[0].pad == (0,) and layers[0].stride == (1,)
    assert layers[1].weights == ()


def test_authors_fixture(shared_data):
    path = shared_data / "reference" / "kalantari_we" / "Net.mat"
    if not path.is_file():
        pytest.skip(f"Kalantari reference network not found: {path}")
    layers = read_matconvnet_layers(path)
    assert [l.type for l in layers][:2] == ["conv", "relu"]
    assert layers[0].weights[0].shape == (7, 7, 18, 100)


def test_errors_name_the_file(tmp_path):
    text = tmp_path / "notes.mat"
    text.write_text("not a mat file")
    with pytest.raises(WeightsFileError, match=r"notes\.mat: not a MATLAB"):
        read_matconvnet_layers(text)
    other = tmp_path / "other.mat"
    scipy.io.savemat(other, {"weights": np.ones(3)})
    with pytest.raises(WeightsFileError, match=r"other\.mat: no variable 'net'"):
        read_matconvnet_layers(other)
    with pytest.raises(FileNotFoundError):
        read_matconvnet_layers(tmp_path / "missing.mat")
