"""Wu et al.: the authors' TF1 checkpoint -> `wu_resnet`."""

from __future__ import annotations


import numpy as np
import pytest

from hdr_keras.authors import AuthorsWeightsError, load_authors_weights

from tests.hdr_keras.authors.authors_helpers import assert_matches_reference, fixture_tensors
from tests.hdr_keras.authors.authors_helpers import reference_dir, write_tf1_checkpoint


@pytest.fixture
def wu_fixture(shared_data):
    folder = reference_dir(shared_data, "wu_resnet")
    _, tensors = fixture_tensors(shared_data, folder)
    return folder, tensors


def test_equals_authors_code(wu_fixture, tmp_path):
    """The authors' generator (test mode) on the fixture; the Adam state their
    Saver also writes is ignored. Measured: hdr 6.6e-7, tanh output 1.3e-6."""
    folder, tensors = wu_fixture
    extra = {f"{n}/Adam": np.zeros_like(v) for n, v in list(tensors.items())[:3]}
    extra["beta1_power"] = np.float32(0.9)
    prefix = write_tf1_checkpoint(tmp_path / "model-1", {**tensors, **extra})
    model = load_authors_weights("wu_resnet", prefix)
    ref = np.load(folder / "ref.npz")
    hdr = model.predict(
        {"ldr": ref["ldr"][None], "exposure": ref["ev"][None]}, verbose=0
    )
    assert_matches_reference(hdr[0], ref["hdr"], "wu_resnet hdr")
    assert_matches_reference(2 * hdr[0] - 1, ref["out_tanh"], "wu_resnet tanh")


def test_errors_name_file_and_variable(wu_fixture, tmp_path):
    _, tensors = wu_fixture
    name = "generator/merger/g_r3_c1/w"
    cases = {
        "missing": {k: v for k, v in tensors.items() if k != name},
        "shape": {**tensors, name: tensors[name][:, :, :128]},
        "extra": {**tensors, "generator/decoder/g_d4/w": tensors[name]},
        "orphan_slot": {**tensors, "discriminator/w/Adam": tensors[name]},
    }
    expected = {
        "missing": f"missing variable {name}",
        "shape": f"variable {name} has shape",
        "extra": "unused variable generator/decoder/g_d4/w",
        "orphan_slot": "unused variable discriminator/w/Adam",
    }
    for case, case_tensors in cases.items():
        prefix = write_tf1_checkpoint(tmp_path / case / "model-1", case_tensors)
        with pytest.raises(AuthorsWeightsError, match=rf"model-1: {expected[case]}"):
            load_authors_weights("wu_resnet", prefix)
    with pytest.raises(FileNotFoundError):
        load_authors_weights("wu_resnet", tmp_path / "nowhere" / "model-1")
