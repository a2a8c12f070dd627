"""hdr_keras.io.torch_pickle: PyTorch state_dicts read without torch."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest

from hdr_keras.io.torch_pickle import read_torch_state_dict
from hdr_keras.io.weight_files import WeightsFileError

from tests.hdr_keras.io.torch_writer import Entry, Storage, write_legacy, write_zip


def _tensors():
    rng = np.random.default_rng(3)
    kernel = rng.normal(size=(4, 2, 3, 3)).astype(np.float32)
    matrix = rng.normal(size=(5, 7)).astype(np.float32)
    root = rng.normal(size=20).astype(np.float32)
    return kernel, matrix, root


@pytest.mark.parametrize("storage_module", ["torch", "torch.cuda"])
def test_legacy_rebuild_tensor_v1_strides_offsets_and_views(tmp_path, storage_module):
    """PyTorch 0.3's `_rebuild_tensor`: a contiguous kernel, a transposed
    (non-contiguous) matrix, two tensors sharing one storage at offsets, and a
    view storage (0.3's view_metadata); CPU and CUDA (saved from the GPU)
    storages."""
    kernel, matrix, root = _tensors()
    transposed = Storage("t", np.ascontiguousarray(matrix.T).ravel())
    shared = Storage("r", root)
    view = Storage("r", root, view=("v", 8, 6))
    tensors = {
        "conv.weight": kernel,
        "fc.weight": Entry(transposed, 0, (5, 7), (1, 5)),
        "a.bias": Entry(shared, 2, (3,), (1,)),
        "b.weight": Entry(shared, 5, (2, 2), (2, 1)),
        "c.bias": Entry(view, 1, (4,), (1,)),
    }
    path = tmp_path / "legacy_v1.pt"
    write_legacy(path, tensors, "_rebuild_tensor", storage_module)
    state = read_torch_state_dict(path)
    assert list(state) == list(tensors)
    np.testing.assert_array_equal(state["conv.weight"], kernel)
    np.testing.assert_array_equal(state["fc.weight"], matrix)
    np.testing.assert_array_equal(state["a.bias"], root[2:5])
    np.testing.assert_array_equal(state["b.weight"], root[5:9].reshape(2, 2))
    np.testing.assert_array_equal(state["c.bias"], root[9:13])  # view at 8, +1
    assert all(a.dtype == np.float32 for a in state.values())


@pytest.mark.parametrize("writer", ["legacy_v2", "zip"])
def test_rebuild_tensor_v2_both_formats(tmp_path, writer):
    kernel, matrix, _ = _tensors()
    path = tmp_path / "model.pt"
    if writer == "zip":
        write_zip(path, {"k": kernel, "m": matrix})
        assert zipfile.is_zipfile(path)
    else:
        write_legacy(path, {"k": kernel, "m": matrix}, rebuild="_rebuild_tensor_v2")
    state = read_torch_state_dict(path)
    np.testing.assert_array_equal(state["k"], kernel)
    np.testing.assert_array_equal(state["m"], matrix)


def test_refuses_other_globals_without_running_them(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this must not run",))

    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        for obj in (0x1950A86A20F9469CFC6C, 1001, {}, {"x": Evil()}):
            f.write(pickle.dumps(obj, protocol=2))
    with pytest.raises(WeightsFileError, match=r"evil\.pt: refusing .*builtin.*print"):
        read_torch_state_dict(path)


def test_errors_name_the_file(tmp_path):
    text = tmp_path / "notes.pt"
    text.write_text("not a pickle")
    with pytest.raises(WeightsFileError, match=r"notes\.pt"):
        read_torch_state_dict(text)
    wrong_magic = tmp_path / "magic.pt"
    wrong_magic.write_bytes(pickle.dumps(12345, protocol=2))
    with pytest.raises(WeightsFileError, match=r"magic\.pt: not a PyTorch file"):
        read_torch_state_dict(wrong_magic)
    truncated = tmp_path / "truncated.pt"
    write_legacy(truncated, {"k": np.ones((4, 4), np.float32)})
    truncated.write_bytes(truncated.read_bytes()[:-10])
    with pytest.raises(WeightsFileError, match=r"truncated\.pt: truncated"):
        read_torch_state_dict(truncated)
    with pytest.raises(FileNotFoundError):
        read_torch_state_dict(tmp_path / "missing.pt")


def test_authors_fixture_files_agree(shared_data):
    """The AHDRNet fixture: the same state_dict written by PyTorch in the legacy
    (non-zip) and the zip serialisation."""
    folder = shared_data / "reference" / "ahdrnet"
    if not (folder / "ahdr_model.pt").is_file():
        pytest.skip(f"AHDRNet reference fixture not found in {folder}")
    legacy = read_torch_state_dict(folder / "ahdr_model.pt")
    zipped = read_torch_state_dict(folder / "ahdr_model_zip.pt")
    assert list(legacy) == list(zipped)
    assert legacy["conv1.weight"].shape == (64, 6, 3, 3)
    for name in legacy:
        np.testing.assert_array_equal(legacy[name], zipped[name])
