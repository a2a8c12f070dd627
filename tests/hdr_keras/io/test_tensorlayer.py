"""hdr_keras.io.tensorlayer and vgg16_npy: object-array weight files without
allow_pickle."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

from hdr_keras.io.tensorlayer import read_caffe_npy_dict, read_tensorlayer_npz
from hdr_keras.io.weight_files import WeightsFileError


def _params():
    rng = np.random.default_rng(0)
    shapes = [(3, 3, 3, 8), (8,), (4, 4, 8, 8), (8,)]
    return [rng.normal(size=s).astype(np.float32) for s in shapes]


def test_tensorlayer_npz_round_trip(tmp_path):
    params = _params()
    array = np.empty(len(params), dtype=object)
    for i, p in enumerate(params):
        array[i] = p
    path = tmp_path / "hdrcnn_params.npz"
    np.savez(path, params=array)  # as tl.files.save_npz
    read = read_tensorlayer_npz(path)
    assert len(read) == len(params)
    for a, b in zip(read, params):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.float32


def _npy_with_pickle(obj, protocol: int) -> bytes:
    """A .npy of a 0-d object array whose payload is `obj` pickled at `protocol`
    (protocol 2 with bytes keys: what Python 2's np.save wrote)."""
    buffer = io.BytesIO()
    header = {"descr": "|O", "fortran_order": False, "shape": ()}
    npy_format.write_array_header_1_0(buffer, header)
    array = np.empty((), dtype=object)
    array[()] = obj
    buffer.write(pickle.dumps(array, protocol=protocol))
    return buffer.getvalue()


@pytest.mark.parametrize("protocol", [2, 4])
def test_caffe_npy_dict(tmp_path, protocol):
    weights = np.arange(3 * 3 * 3 * 4, dtype=np.float32).reshape(3, 3, 3, 4)
    obj = {"conv1_1": {"weights": weights, "biases": np.ones(4, np.float32)}}
    path = tmp_path / "vgg.npy"
    path.write_bytes(_npy_with_pickle(obj, protocol))
    layers = read_caffe_npy_dict(path)
    np.testing.assert_array_equal(layers["conv1_1"]["weights"], weights)
    np.testing.assert_array_equal(layers["conv1_1"]["biases"], np.ones(4))


def test_refuses_code_in_object_arrays(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this must not run",))

    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as archive:
        buffer = io.BytesIO()
        npy_format.write_array_header_1_0(
            buffer, {"descr": "|O", "fortran_order": False, "shape": (1,)}
        )
        array = np.empty(1, dtype=object)
        array[0] = Evil()
        buffer.write(pickle.dumps(array, protocol=3))
        archive.writestr("params.npy", buffer.getvalue())
    with pytest.raises(WeightsFileError, match=r"evil\.npz: refusing .*print"):
        read_tensorlayer_npz(path)


def test_errors_name_the_file(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.ones(3))
    with pytest.raises(WeightsFileError, match=r"other\.npz: no 'params' array"):
        read_tensorlayer_npz(other)
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(WeightsFileError, match=r"text\.npz: not an \.npz"):
        read_tensorlayer_npz(text)
    plain = tmp_path / "plain.npy"
    np.save(plain, np.ones(3))
    with pytest.raises(WeightsFileError, match=r"plain\.npy: expected a pickled dict"):
        read_caffe_npy_dict(plain)
