"""Read a PyTorch `state_dict` file into numpy arrays WITHOUT importing torch.

`read_torch_state_dict(path) -> dict[str, np.ndarray]` reads both serialisations:

- legacy (PyTorch <= 1.5 and `_use_new_zipfile_serialization=False`; what PyTorch
  0.3 wrote): five pickles one after the other, then the raw storages:
  1. the magic number 0x1950a86a20f9469cfc6c, 2. the protocol version 1001,
  3. a system-info dict (`little_endian`, `type_sizes`), 4. the object itself, whose
  storages are persistent ids ``("storage", <torch.XStorage>, key, location, numel,
  view_metadata)`` (view_metadata None or (view_key, offset, view_numel), a slice
  of storage `key`), 5. the list of storage keys; then, for each key in that order,
  an int64 element count followed by the elements' bytes.
- zip (PyTorch >= 1.6): a zip archive ``<name>/data.pkl`` (the object, persistent
  ids ``("storage", <torch.XStorage>, key, location, numel)``), ``<name>/data/<key>``
  (raw bytes of storage `key`) and ``<name>/byteorder`` ("little" or "big").

Tensors are pickled as calls to `torch._utils._rebuild_tensor(storage, offset,
size, stride)` (PyTorch 0.3) or `_rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, backward_hooks[, metadata])` (later versions); both become numpy
arrays (strided views of the storage, copied). A restricted unpickler allows only
these calls, `_rebuild_parameter`, the storage classes (`torch.XStorage` and
`torch.cuda.XStorage`: files saved from the GPU load here on the CPU) and
`collections.OrderedDict`.
"""

from __future__ import annotations

import collections
import io
import os
import zipfile
from typing import Any

import numpy as np

from hdr_keras.io.weight_files import PathLike, WeightsFileError, restricted_load

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
# torch.<Name>Storage -> numpy dtype (little endian; byte order fixed per file).
STORAGE_DTYPES = {
    "DoubleStorage": "f8",
    "FloatStorage": "f4",
    "HalfStorage": "f2",
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class _StorageType:
    """Stands for the class torch.<name>Storage in the pickle."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])


class _Storage:
    """One storage: its key, dtype and element count; `data` once read."""

    def __init__(self, key: str, storage_type: _StorageType, numel: int) -> None:
        self.key = key
        self.dtype = storage_type.dtype
        self.numel = int(numel)
        self.data: np.ndarray | None = None
        self.view: tuple["_Storage", int, int] | None = None  # (root, offset, numel)

    def array(self) -> np.ndarray:
        if self.view is not None:
            root, offset, numel = self.view
            return root.array()[offset : offset + numel]
        assert self.data is not None
        return self.data


class _Tensor:
    """A tensor to rebuild once its storage's bytes are known."""

    def __init__(self, storage: _Storage, offset: int, size, stride) -> None:
        self.storage = storage
        self.offset = int(offset)
        self.size = tuple(int(s) for s in size)
        self.stride = tuple(int(s) for s in stride)

    def to_numpy(self, path: PathLike, name: str) -> np.ndarray:
        flat = self.storage.array()
        if self.size and min(self.size) == 0:
            return np.zeros(self.size, flat.dtype)
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
        if self.offset < 0 or last >= flat.size or min(self.stride, default=0) < 0:
            raise WeightsFileError(
                path,
                f"tensor {name}: size {list(self.size)} / stride {list(self.stride)} "
                f"at offset {self.offset} exceeds its storage of {flat.size} elements",
            )
        item = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset :],
            shape=self.size,
            strides=tuple(s * item for s in self.stride),
            writeable=False,
        )
        return np.array(view)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *unused):
    del unused  # requires_grad, backward_hooks, metadata
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks, *unused):
    del requires_grad, backward_hooks, unused
    return data


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    # CPU storages, and CUDA ones (a model saved on the GPU, as the authors'
    # PyTorch 0.3 files often were: location "cuda:0"; read here onto the CPU).
    **{
        (module, name): _StorageType(name)
        for module in ("torch", "torch.cuda")
        for name in STORAGE_DTYPES
    },
}


def _storage_from_id(path: PathLike, pid, storages: dict, zip_format: bool):
    """The `_Storage` for a persistent id (shared between tensors by key)."""
    if not isinstance(pid, tuple) or not pid or pid[0] not in ("storage", b"storage"):
        raise WeightsFileError(path, f"unsupported persistent id {pid!r}")
    if len(pid) < 5 or not isinstance(pid[1], _StorageType):
        raise WeightsFileError(path, f"unsupported storage record {pid!r}")
    storage_type, key, numel = pid[1], str(pid[2]), pid[4]
    view = None if zip_format or len(pid) < 6 else pid[5]
    if key not in storages:
        storages[key] = _Storage(key, storage_type, numel)
    if view is None:
        return storages[key]
    view_key, offset, view_numel = view
    if view_key not in storages:
        storages[view_key] = _Storage(str(view_key), storage_type, view_numel)
        storages[view_key].view = (storages[key], int(offset), int(view_numel))
    return storages[view_key]


def _check_state_dict(path: PathLike, obj: Any) -> dict:
    if not isinstance(obj, dict):
        raise WeightsFileError(
            path,
            f"expected a state_dict (a dict of tensors), found {type(obj).__name__} "
            "(a whole pickled model cannot be read without its code; save "
            "model.state_dict() instead)",
        )
    for name, value in obj.items():
        if not isinstance(value, _Tensor):
            raise WeightsFileError(
                path, f"entry {name!r} is a {type(value).__name__}, not a tensor"
            )
    return obj


def _read_legacy(path: PathLike, f) -> dict:
    def load(persistent=None):
        return restricted_load(f, path, _ALLOWED, persistent)

    magic = load()
    if magic != LEGACY_MAGIC:
        raise WeightsFileError(path, "not a PyTorch file (wrong magic number)")
    protocol = load()
    if protocol != LEGACY_PROTOCOL:
        raise WeightsFileError(path, f"unsupported PyTorch protocol {protocol!r}")
    sys_info = load()
    little = not isinstance(sys_info, dict) or sys_info.get("little_endian", True)
    storages: dict[str, _Storage] = {}
    obj = load(lambda pid: _storage_from_id(path, pid, storages, False))
    state = _check_state_dict(path, obj)
    keys = load()
    order = "<" if little else ">"
    for key in keys:
        key = str(key)
        if key not in storages:
            raise WeightsFileError(path, f"storage {key} is not used by any tensor")
        storage = storages[key]
        header = f.read(8)
        if len(header) != 8:
            raise WeightsFileError(path, f"truncated before storage {key}")
        numel = int(np.frombuffer(header, order + "i8")[0])
        dtype = storage.dtype.newbyteorder(order)
        raw = f.read(numel * dtype.itemsize)
        if numel < 0 or len(raw) != numel * dtype.itemsize:
            raise WeightsFileError(path, f"truncated data of storage {key}")
        storage.data = np.frombuffer(raw, dtype).astype(storage.dtype.newbyteorder("="))
    for key, storage in storages.items():
        if storage.view is None and storage.data is None:
            raise WeightsFileError(path, f"storage {key} has no data in the file")
    return state


def _read_zip(path: PathLike, archive: zipfile.ZipFile) -> dict:
    names = archive.namelist()
    pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pickles:
        raise WeightsFileError(path, "zip file without <name>/data.pkl: not PyTorch")
    prefix = pickles[0][: -len("data.pkl")]
    order = "<"
    if prefix + "byteorder" in names:
        order = "<" if archive.read(prefix + "byteorder").strip() == b"little" else ">"
    storages: dict[str, _Storage] = {}

    def persistent(pid):
        storage = _storage_from_id(path, pid, storages, True)
        if storage.data is None:
            member = f"{prefix}data/{storage.key}"
            try:
                raw = archive.read(member)
            except KeyError:
                raise WeightsFileError(path, f"missing storage {member}") from None
            dtype = storage.dtype.newbyteorder(order)
            if len(raw) < storage.numel * dtype.itemsize:
                raise WeightsFileError(path, f"truncated storage {member}")
            data = np.frombuffer(raw[: storage.numel * dtype.itemsize], dtype)
            storage.data = data.astype(storage.dtype.newbyteorder("="))
        return storage

    with archive.open(pickles[0]) as f:
        obj = restricted_load(io.BytesIO(f.read()), path, _ALLOWED, persistent)
    return _check_state_dict(path, obj)


def read_torch_state_dict(path: PathLike) -> dict[str, np.ndarray]:
    """{name: numpy array} of a PyTorch state_dict file (legacy or zip format).

    Raises:
        FileNotFoundError: the file does not exist.
        WeightsFileError: the file is not a PyTorch state_dict this reader knows
            (the message names the file and, where known, the tensor).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"PyTorch weights file not found: {path}")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            state = _read_zip(path, archive)
    else:
        with open(path, "rb") as f:
            state = _read_legacy(path, f)
    return {str(name): t.to_numpy(path, str(name)) for name, t in state.items()}
