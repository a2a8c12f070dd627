"""HDRCNN: the authors' TensorLayer npz -> `eilertsen`; Places VGG16 .npy."""

from __future__ import annotations


import keras
import numpy as np
import pytest

from hdr_keras.authors import AuthorsWeightsError, load_authors_weights
from hdr_keras.methods.eilertsen.authors import PARAMS
from hdr_keras.registry import build_model

from tests.hdr_keras.authors.authors_helpers import assert_matches_reference, fixture_tensors
from tests.hdr_keras.authors.authors_helpers import reference_dir, write_tensorlayer_npz


@pytest.fixture
def hdrcnn_params(shared_data):
    folder = reference_dir(shared_data, "eilertsen")
    variables, tensors = fixture_tensors(shared_data, folder)
    assert [name for name, _ in variables] == [p[0] for p in PARAMS]
    return folder, [tensors[name] for name, _ in variables]


def test_equals_authors_code(hdrcnn_params, tmp_path):
    """network.py's log output and get_final's blended HDR (values up to 1.04:
    relative above 1). Measured: hdr 3.6e-7, log output 6.9e-7."""
    folder, arrays = hdrcnn_params
    path = write_tensorlayer_npz(tmp_path / "hdrcnn_params.npz", arrays)
    model = load_authors_weights("eilertsen", path)
    ref = np.load(folder / "ref.npz")
    hdr = model.predict(ref["ldr"][None], verbose=0)[0]
    assert_matches_reference(hdr, ref["hdr"], "eilertsen hdr")
    log_model = keras.Model(model.input, model.get_layer("log_hdr").output)
    log_y = log_model.predict(ref["ldr"][None], verbose=0)[0]
    assert_matches_reference(log_y, ref["log_y"], "eilertsen log_y")


def test_errors_name_file_and_array(hdrcnn_params, tmp_path):
    _, arrays = hdrcnn_params
    wrong = list(arrays)
    wrong[38] = wrong[38][:, :, :512]  # decoder/h2/fuse_skip_connection/W_conv2d
    cases = {
        "short": (arrays[:-1], r"missing array params\[79\] \(decoder/h7/fuse"),
        "long": (arrays + [arrays[-1]], r"unused array params\[80\]"),
        "shape": (
            wrong,
            r"array params\[38\] \(decoder/h2/fuse_skip_connection/W_conv2d",
        ),
    }
    for case, (case_arrays, message) in cases.items():
        path = write_tensorlayer_npz(tmp_path / f"{case}.npz", case_arrays)
        with pytest.raises(AuthorsWeightsError, match=rf"{case}\.npz: {message}"):
            load_authors_weights("eilertsen", path)


def test_places_vgg16_npy(tmp_path):
    """`vgg16_places365_weights.npy` (caffe-tensorflow dict, fc layers ignored as
    the authors' load_vgg_weights does) through build_model(vgg_weights=...)."""
    rng = np.random.default_rng(0)
    channels = [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    names = [
        f"conv{b}_{c}"
        for b, n in enumerate((2, 2, 3, 3, 3), 1)
        for c in range(1, n + 1)
    ]
    weights = {
        name: {
            "weights": rng.normal(0, 0.01, (3, 3, cin, cout)).astype(np.float32),
            "biases": rng.normal(0, 0.01, cout).astype(np.float32),
        }
        for name, cin, cout in zip(names, channels[:-1], channels[1:])
    }
    weights["fc8"] = {
        "weights": np.zeros((4, 365), np.float32),
        "biases": np.zeros(365),
    }
    path = tmp_path / "vgg16_places365_weights.npy"
    np.save(path, weights)
    model = build_model("eilertsen", vgg_weights=path)
    for name in names:
        layer = model.get_layer(f"block{name[4]}_conv{name[6]}")
        np.testing.assert_array_equal(layer.kernel.numpy(), weights[name]["weights"])
        np.testing.assert_array_equal(layer.bias.numpy(), weights[name]["biases"])
    del weights["conv4_2"]
    np.save(path, weights)
    with pytest.raises(
        ValueError, match=r"vgg16_places365_weights\.npy: missing VGG16 layer conv4_2"
    ):
        build_model("eilertsen", vgg_weights=path)
