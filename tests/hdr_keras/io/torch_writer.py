"""Test helper: write PyTorch state_dict files WITHOUT torch, from the formats' description.

- `write_legacy(path, tensors, rebuild="_rebuild_tensor")`: the legacy
  serialisation (what PyTorch 0.3 wrote): pickles of the magic number
  0x1950a86a20f9469cfc6c, the protocol version 1001 and a system-info dict, then the
  state_dict whose storages are persistent ids ("storage", torch.FloatStorage,
  root_key, "cpu", root_numel, view_metadata), then the list of root keys, then per
  key an int64 element count and the raw little-endian elements. PyTorch 0.3
  pickled tensors as `torch._utils._rebuild_tensor(storage, offset, size, stride)`.
- `write_zip(path, tensors)`: the zip serialisation of PyTorch >= 1.6:
  `<name>/data.pkl` with 5-tuple persistent ids and `_rebuild_tensor_v2`,
  `<name>/data/<key>` raw storages, `<name>/byteorder`, `<name>/version`.

`tensors` maps names to `Entry` (a tensor as a strided view of a storage) or to a
numpy array (stored contiguously in a storage of its own).
"""

from __future__ import annotations

import collections
import dataclasses
import io
import pickle
import struct
import zipfile

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class Global:
    """A global (module.name) written as a GLOBAL opcode, without importing it."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's save_reduce wants a callable
        raise TypeError(f"{self.module}.{self.name} is a stand-in")


@dataclasses.dataclass
class Storage:
    """A root storage `key` of float32 `data`; a view of it if `view` is set
    (view_key, offset, numel): PyTorch 0.3's view_metadata."""

    key: str
    data: np.ndarray
    view: tuple[str, int, int] | None = None


@dataclasses.dataclass
class Entry:
    storage: Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


class _Tensor:
    def __init__(self, entry: Entry, rebuild: str, legacy: bool) -> None:
        self.entry, self.rebuild, self.legacy = entry, rebuild, legacy

    def __reduce__(self):
        e = self.entry
        args = (e.storage, e.offset, tuple(e.size), tuple(e.stride))
        if self.rebuild == "_rebuild_tensor_v2":
            args += (False, collections.OrderedDict())
        return (Global("torch._utils", self.rebuild), args)


class _Pickler(pickle._Pickler):  # the Python pickler: its dispatch is extensible
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, legacy: bool, storage_module: str = "torch") -> None:
        super().__init__(file, protocol=2)
        self.legacy = legacy
        self.storage_module = storage_module

    def _save_global_marker(self, obj: Global) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())

    dispatch[Global] = _save_global_marker

    def persistent_id(self, obj):
        if not isinstance(obj, Storage):
            return None
        location = "cuda:0" if self.storage_module == "torch.cuda" else "cpu"
        storage_type = Global(self.storage_module, "FloatStorage")
        record = ("storage", storage_type, obj.key, location)
        record += (int(obj.data.size),)
        if self.legacy:
            record += (obj.view,)
        return record


def _entries(tensors: dict) -> dict[str, Entry]:
    out = {}
    for i, (name, value) in enumerate(tensors.items()):
        if isinstance(value, Entry):
            out[name] = value
        else:
            a = np.ascontiguousarray(value, dtype=np.float32)
            strides = tuple(s // 4 for s in a.strides)
            out[name] = Entry(Storage(f"s{i}", a.ravel()), 0, a.shape, strides)
    return out


def _dump(obj, legacy: bool, storage_module: str = "torch") -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, legacy, storage_module).dump(obj)
    return buffer.getvalue()


def write_legacy(
    path, tensors: dict, rebuild: str = "_rebuild_tensor", storage_module="torch"
) -> None:
    """The legacy (non-zip) serialisation of the state_dict `tensors`
    (storage_module "torch.cuda": saved from the GPU, location "cuda:0")."""
    entries = _entries(tensors)
    state = collections.OrderedDict(
        (name, _Tensor(e, rebuild, True)) for name, e in entries.items()
    )
    roots = {}
    for e in entries.values():
        roots.setdefault(e.storage.key, e.storage)
    with open(path, "wb") as f:
        f.write(pickle.dumps(LEGACY_MAGIC, protocol=2))
        f.write(pickle.dumps(1001, protocol=2))
        info = {"protocol_version": 1001, "little_endian": True}
        f.write(pickle.dumps(info, protocol=2))
        f.write(_dump(state, legacy=True, storage_module=storage_module))
        f.write(pickle.dumps(list(roots), protocol=2))
        for storage in roots.values():
            data = np.asarray(storage.data, "<f4")
            f.write(struct.pack("<q", data.size) + data.tobytes())


def write_zip(path, tensors: dict, name: str = "archive") -> None:
    """The zip serialisation (PyTorch >= 1.6) of the state_dict `tensors`."""
    entries = _entries(tensors)
    state = collections.OrderedDict(
        (n, _Tensor(e, "_rebuild_tensor_v2", False)) for n, e in entries.items()
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/data.pkl", _dump(state, legacy=False))
        archive.writestr(f"{name}/byteorder", "little")
        archive.writestr(f"{name}/version", "3\n")
        for e in entries.values():
            data = np.asarray(e.storage.data, "<f4").tobytes()
            archive.writestr(f"{name}/data/{e.storage.key}", data)
