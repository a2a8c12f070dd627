"""The metadata asset of every export: written by serving.export, read by loaders."""

from __future__ import annotations

import shutil

import hdr_keras
from hdr_keras.inference import backends
from hdr_keras.inference.metadata import read_metadata
from serving import export


def test_export_of_a_method_writes_its_metadata(tmp_path):
    model = hdr_keras.build_model("mertens")
    path = export.export_model(model, tmp_path / "fusion", "stack")
    assert (path / "assets.extra" / "hdr_keras.json").is_file()
    spec = hdr_keras.get_method("mertens")
    written = read_metadata(path)
    assert written.method == "mertens"
    assert written.input_kind == "stack"
    assert written.output_kind == spec.output_kind == "display"
    assert written.stride == spec.stride
    assert written.whole_image is True
    assert written.hdr_keras_version == hdr_keras.__version__
    # The loader reads it: the folder name says nothing about the method.
    moved = shutil.move(path, tmp_path / "anything")
    backend = backends.load_backend(model=moved)
    assert (backend.method, backend.stride, backend.output_kind) == (
        "mertens",
        spec.stride,
        "display",
    )
    assert backend.whole_image


def test_export_of_an_unregistered_model_and_explicit_method(tmp_path, helpers):
    model = helpers.tiny_single_model()
    anonymous = read_metadata(export.export_model(model, tmp_path / "a", "single"))
    assert (anonymous.method, anonymous.stride, anonymous.output_kind) == (
        None,
        None,
        "linear",
    )
    path = export.export_model(model, tmp_path / "b", "single", method="inverse_curve")
    named = read_metadata(path)
    assert named.method == "inverse_curve"
    assert named.stride == hdr_keras.get_method("inverse_curve").stride


def test_export_cli_method_goes_into_the_metadata(tmp_path, helpers):
    keras_path = tmp_path / "single.keras"
    helpers.tiny_single_model().save(keras_path)
    path = export.main(
        [f"--model={keras_path}", f"--base_path={tmp_path / 'repo'}", "--name=m"]
        + ["--method=inverse_curve", "--jit_compile=off"]
    )
    assert read_metadata(path).method == "inverse_curve"
    backend = backends.load_backend(model=tmp_path / "repo" / "m")
    assert backend.method == "inverse_curve"
