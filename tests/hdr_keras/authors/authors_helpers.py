"""Shared helpers of the authors'-checkpoint tests (`from tests.hdr_keras.authors.authors_helpers import ...`).

Tolerance (`assert_matches_reference`): the references are the authors' float32
graphs (Kalantari: float64 numpy) and ours computes the same function in float32
with other summation orders (oneDNN convolution algorithms, fused batch norm).
Each output is a chain of ~20-40 layers whose sums have up to ~5000 terms; the
float32 rounding this accumulates is of order sqrt(terms) * 2^-24 * |activations|
per layer, measured 1e-7 .. 3e-5 over all fixtures (see each test). The issue's
bound, 1e-4, is 3x above the largest (Kalantari's trained network vs float64) and
far below any mapping mistake (a wrong channel, a missing bias or a transposed
kernel changes outputs by 1e-2 .. 1). HDR values above 1 carry their magnitude's
rounding, so above 1 the bound is relative: |ours - ref| <= 1e-4 * max(1, |ref|).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

TOLERANCE = 1e-4  # see the module docstring


def reference_dir(shared_data: Path, name: str) -> Path:
    """shared_data/reference/<name>, or skip with the reason."""
    folder = shared_data / "reference" / name
    if not folder.is_dir():
        pytest.skip(f"reference fixture {name!r} not found in {folder.parent}")
    return folder


def fixture_weights_module(shared_data: Path):
    """The reference folder's fixture_weights.py (deterministic weights)."""
    path = shared_data / "reference" / "fixture_weights.py"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    spec = importlib.util.spec_from_file_location("reference_fixture_weights", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_tensors(shared_data: Path, folder: Path) -> tuple[list, dict]:
    """([(name, shape)] of folder/variables.txt, {name: array}) as the fixture."""
    fw = fixture_weights_module(shared_data)
    variables = fw.read_variables(folder / "variables.txt")
    return variables, fw.fixture_weights(variables)


def write_tf1_checkpoint(prefix: Path, tensors: dict) -> str:
    """A TF1 checkpoint (as tf.compat.v1.train.Saver writes) at `prefix`."""
    os.makedirs(Path(prefix).parent, exist_ok=True)
    names = sorted(tensors)
    tf.raw_ops.SaveV2(
        prefix=str(prefix),
        tensor_names=names,
        shape_and_slices=[""] * len(names),
        tensors=[np.asarray(tensors[n]) for n in names],
    )
    return str(prefix)


def write_tensorlayer_npz(path: Path, arrays: list) -> str:
    """`np.savez(path, params=object array)`, as tl.files.save_npz."""
    params = np.empty(len(arrays), dtype=object)
    for i, array in enumerate(arrays):
        params[i] = array
    np.savez(path, params=params)
    return str(path)


def max_error(actual, expected) -> float:
    """max |actual - expected| / max(1, |expected|) (absolute up to 1)."""
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return float(np.max(np.abs(actual - expected) / np.maximum(1.0, np.abs(expected))))


def assert_matches_reference(actual, expected, what: str) -> float:
    """Asserts `max_error` <= TOLERANCE; returns the error (printed with -s)."""
    error = max_error(actual, expected)
    print(f"{what}: max difference to the authors' code {error:.2e}")
    assert error <= TOLERANCE, f"{what}: {error:.3e} > {TOLERANCE}"
    return error
