"""hdr_keras.inference.versions and paths: version folders and --model resolution."""

from __future__ import annotations

import pytest

from hdr_keras.inference import paths, versions


def make_version(base, name: str, complete: bool = True):
    folder = base / name
    folder.mkdir(parents=True)
    if complete:
        (folder / "saved_model.pb").write_bytes(b"")
    return folder


def test_list_versions_integer_folders_only(tmp_path):
    base = tmp_path / "model"
    for name in ("1", "3", "10"):
        make_version(base, name)
    make_version(base, "4", complete=False)  # still being written
    make_version(base, ".tmp-5-123-abcd")  # an export in progress
    make_version(base, "v2")
    (base / "7").write_text("a file, not a folder")
    assert versions.list_versions(base) == {
        1: base / "1",
        3: base / "3",
        10: base / "10",
    }
    assert sorted(versions.list_versions(base, complete=False)) == [1, 3, 4, 10]
    assert versions.latest_version(base) == base / "10"  # numeric, not "3" > "10"
    assert versions.list_versions(tmp_path / "missing") == {}
    assert versions.latest_version(tmp_path / "missing") is None


def test_resolve_model_path_every_form(tmp_path):
    keras_file = tmp_path / "model.keras"
    keras_file.write_bytes(b"")
    run = tmp_path / "run"
    run.mkdir()
    paths.final_model_path(run).write_bytes(b"")
    base = tmp_path / "exports" / "eilertsen"
    make_version(base, "2")
    latest = make_version(base, "12")
    make_version(base, "13", complete=False)

    resolve = paths.resolve_model_path
    assert resolve(keras_file) == paths.ModelPath(paths.KERAS, keras_file)
    assert resolve(run) == paths.ModelPath(paths.KERAS, run / "final.keras")
    assert resolve(base) == paths.ModelPath(paths.SAVED_MODEL, latest)
    assert resolve(base / "2") == paths.ModelPath(paths.SAVED_MODEL, base / "2")
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        resolve(tmp_path / "nope.keras")
    with pytest.raises(ValueError, match="neither a SavedModel nor a folder"):
        resolve(tmp_path / "exports")
    (tmp_path / "weights.h5").write_bytes(b"")
    with pytest.raises(ValueError, match="neither a .keras file"):
        resolve(tmp_path / "weights.h5")


def test_final_model_name_is_the_one_of_finetune():
    from hdr_keras import finetune

    assert finetune.FINAL_MODEL == paths.FINAL_MODEL == "final.keras"
