"""Read TensorLayer `.npz` parameter files and caffe-tensorflow `.npy` weight dicts.

Both hold numpy object arrays, which numpy stores as a pickle after the `.npy`
header; `np.load(allow_pickle=True)` would run whatever that pickle says. Here the
pickle goes through a restricted unpickler that only rebuilds numpy arrays and
dtypes (and plain lists, dicts, strings, numbers).

- `read_tensorlayer_npz(path)`: TensorLayer 1.x `tl.files.save_npz` writes
  ``np.savez(path, params=[array, ...])`` (the network's `all_params`, in creation
  order): one key `params`, an object array of the parameters. Returns the list.
- `read_caffe_npy_dict(path)`: `np.save(path, dict)` files such as the
  Places365-trained VGG16 (`vgg16_places365_weights.npy`, written by
  caffe-tensorflow under Python 2): a 0-d object array holding
  {layer: {"weights": [kh, kw, in, out], "biases": [out]}}.
"""

from __future__ import annotations

import codecs
import io
import os
import zipfile
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from hdr_keras.io.weight_files import PathLike, WeightsFileError, restricted_load

_RECONSTRUCT = np.zeros(1).__reduce__()[0]  # numpy's ndarray rebuild function
_SCALAR = np.float32(0).__reduce__()[0]  # numpy's scalar rebuild function
_NUMPY_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    # Python 3 pickles bytes at protocol 2 as _codecs.encode(text, "latin1").
    ("_codecs", "encode"): codecs.encode,
}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _NUMPY_GLOBALS[(_module, "_reconstruct")] = _RECONSTRUCT
    _NUMPY_GLOBALS[(_module, "scalar")] = _SCALAR


def _read_npy(path: PathLike, f, what: str) -> np.ndarray:
    """One array from an open .npy stream; object arrays via the restricted pickle."""
    try:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = npy_format.read_array_header_2_0(f)
    except ValueError as error:
        raise WeightsFileError(path, f"{what}: not a .npy array ({error})") from None
    if dtype.hasobject:
        array = restricted_load(f, path, _NUMPY_GLOBALS, encoding="latin1")
        if not isinstance(array, np.ndarray):
            raise WeightsFileError(path, f"{what}: the pickle holds no array")
        return array
    count = int(np.prod(shape)) if shape else 1
    raw = f.read(count * dtype.itemsize)
    if len(raw) != count * dtype.itemsize:
        raise WeightsFileError(path, f"{what}: truncated array data")
    order = "F" if fortran else "C"
    return np.frombuffer(raw, dtype).reshape(shape, order=order).copy()


def read_tensorlayer_npz(path: PathLike) -> list[np.ndarray]:
    """The parameter arrays of a TensorLayer `save_npz` file, in file order.

    Raises:
        FileNotFoundError: no such file.
        WeightsFileError: not an .npz with a `params` array of numeric arrays.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"TensorLayer weights file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise WeightsFileError(path, "not an .npz file (TensorLayer save_npz format)")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if "params.npy" not in names:
            keys = ", ".join(n.removesuffix(".npy") for n in names) or "none"
            raise WeightsFileError(
                path, f"no 'params' array (TensorLayer save_npz); keys: {keys}"
            )
        data = io.BytesIO(archive.read("params.npy"))
    array = _read_npy(path, data, "params")
    params = list(array) if array.dtype.hasobject else [array]
    if array.dtype.hasobject and array.ndim != 1:
        raise WeightsFileError(path, f"params has shape {array.shape}, expected [n]")
    for i, value in enumerate(params):
        if not isinstance(value, np.ndarray) or value.dtype.hasobject:
            raise WeightsFileError(
                path, f"params[{i}] is a {type(value).__name__}, not a numeric array"
            )
    return params


def read_caffe_npy_dict(path: PathLike) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {param: array}} of an `np.save`d dict of dicts (caffe-tensorflow).

    Raises:
        FileNotFoundError: no such file.
        WeightsFileError: not a .npy holding such a dict.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"weights file not found: {path}")
    with open(path, "rb") as f:
        array = _read_npy(path, f, "the array")
    if array.shape != () or not isinstance(array.item(), dict):
        raise WeightsFileError(
            path, "expected a pickled dict {layer: {'weights', 'biases'}} (np.save)"
        )
    layers = {}
    for name, params in array.item().items():
        name = name.decode("latin1") if isinstance(name, bytes) else str(name)
        if not isinstance(params, dict):
            raise WeightsFileError(path, f"layer {name}: not a dict of arrays")
        layers[name] = {}
        for key, value in params.items():
            key = key.decode("latin1") if isinstance(key, bytes) else str(key)
            if not isinstance(value, np.ndarray) or value.dtype.hasobject:
                raise WeightsFileError(path, f"{name}/{key}: not a numeric array")
            layers[name][key] = value
    return layers
