"""hdr_keras.load_authors_weights: dispatch and errors common to every method."""

from __future__ import annotations

import pytest

import hdr_keras
from hdr_keras.authors import AuthorsWeightsError, load_authors_weights
from hdr_keras.authors import supported_methods


def test_exported_from_the_package():
    assert hdr_keras.load_authors_weights is load_authors_weights
    assert issubclass(AuthorsWeightsError, ValueError)
    assert supported_methods() == [
        "ahdrnet",
        "eilertsen",
        "kalantari_direct",
        "kalantari_we",
        "kalantari_wie",
        "liu",
        "wu_resnet",
    ]


def test_unknown_or_unsupported_method(tmp_path):
    with pytest.raises(ValueError, match="no authors' checkpoint format.*wu_unet"):
        load_authors_weights("wu_unet", tmp_path / "x")
    with pytest.raises(ValueError, match="supported: ahdrnet"):
        load_authors_weights("debevec", tmp_path / "x")


@pytest.mark.parametrize(
    "method, filename",
    [
        ("ahdrnet", "ahdr_model.pt"),
        ("wu_resnet", "model-1"),
        ("kalantari_we", "Net.mat"),
        ("eilertsen", "hdrcnn_params.npz"),
    ],
)
def test_missing_file(tmp_path, method, filename):
    with pytest.raises(FileNotFoundError, match=filename):
        load_authors_weights(method, tmp_path / filename)


@pytest.mark.parametrize(
    "method, filename, message",
    [
        ("ahdrnet", "w.pt", "not a readable pickle"),
        ("wu_resnet", "model-1", "not a TF1 checkpoint prefix"),
        ("kalantari_we", "Net.mat", "not a MATLAB"),
        ("eilertsen", "p.npz", "not an .npz"),
    ],
)
def test_wrong_format_names_the_file(tmp_path, method, filename, message):
    path = tmp_path / filename
    path.write_text("some text, not weights")
    with pytest.raises(AuthorsWeightsError, match=rf"{filename}: {message}"):
        load_authors_weights(method, path)
