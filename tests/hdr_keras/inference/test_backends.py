"""hdr_keras.inference.backends: metadata first, folder names only for old exports."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

import hdr_keras
from hdr_keras.inference import backends, metadata

COMPAT = Path(__file__).resolve().parents[2] / "compat" / "pre_redesign"


def old_export(tmp_path: Path, method: str, folder: str) -> Path:
    """The SavedModel of `method` written before the metadata asset existed,
    extracted as `<tmp_path>/<folder>/1`."""
    with tarfile.open(COMPAT / f"{method}.savedmodel.tar.xz") as tar:
        tar.extractall(tmp_path / "extract", filter="data")
    target = tmp_path / folder
    shutil.move(tmp_path / "extract" / "1", target / "1")
    return target


def test_old_savedmodel_has_no_metadata_and_falls_back_to_its_folder(tmp_path):
    base = old_export(tmp_path, "mertens", "mertens")
    assert metadata.read_metadata(base / "1") is None
    backend = backends.load_backend(model=base)
    spec = hdr_keras.get_method("mertens")
    assert (backend.method, backend.stride) == ("mertens", spec.stride)
    assert backend.output_kind == spec.output_kind == "display"
    assert backend.whole_image


def test_old_savedmodel_in_an_unnamed_folder_knows_nothing(tmp_path):
    base = old_export(tmp_path, "mertens", "my_fusion")
    backend = backends.load_backend(model=base / "1")
    assert backend.input_kind == "stack"
    assert (backend.method, backend.stride, backend.output_kind) == (
        None,
        None,
        "linear",
    )
    # An explicit method still applies.
    backend = backends.load_backend(model=base, method="mertens")
    assert (backend.method, backend.output_kind) == ("mertens", "display")


def test_metadata_wins_over_the_folder_name(tmp_path):
    """A metadata file added to an old export is read instead of the folder name."""
    base = old_export(tmp_path, "mertens", "eilertsen")  # misleading folder name
    metadata.write_metadata(
        base / "1", metadata.metadata_for("stack", "mertens", version="0.0.1")
    )
    backend = backends.load_backend(model=base)
    assert (backend.method, backend.output_kind) == ("mertens", "display")
    assert backend.whole_image


def test_metadata_round_trip_and_errors(tmp_path):
    written = metadata.metadata_for("single", "eilertsen")
    assert written.stride == hdr_keras.get_method("eilertsen").stride
    assert written.hdr_keras_version == hdr_keras.__version__
    path = metadata.write_metadata(tmp_path, written)
    assert path == tmp_path / "assets.extra" / "hdr_keras.json"
    assert json.loads(path.read_text())["format"] == metadata.FORMAT
    assert metadata.read_metadata(tmp_path) == written
    anonymous = metadata.metadata_for("stack")
    assert (anonymous.method, anonymous.stride) == (None, None)
    with pytest.raises(ValueError, match="takes single input, not stack"):
        metadata.metadata_for("stack", "eilertsen")
    path.write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        metadata.read_metadata(tmp_path)


def test_metadata_kind_must_match_the_signature(tmp_path):
    base = old_export(tmp_path, "mertens", "fusion")
    metadata.write_metadata(base / "1", metadata.metadata_for("single"))
    with pytest.raises(ValueError, match="metadata says single input"):
        backends.load_backend(model=base)


def test_keras_backend_takes_the_registry_entry_of_its_name(helpers):
    backend = backends.keras_backend(hdr_keras.build_model("inverse_curve"))
    spec = hdr_keras.get_method("inverse_curve")
    assert (backend.method, backend.stride, backend.input_kind) == (
        "inverse_curve",
        spec.stride,
        "single",
    )
    ldr = helpers.random_ldr(1, 9, 11, 3)
    assert backend.predict(ldr, None).shape == (1, 9, 11, 3)
    anonymous = backends.keras_backend(helpers.tiny_single_model())
    assert (anonymous.method, anonymous.stride) == (None, None)
    assert np.isfinite(anonymous.predict(ldr, None)).all()
