"""SingleHDR: the authors' TF1 checkpoint -> `liu` (EMoR basis required)."""

from __future__ import annotations


import numpy as np
import pytest

from hdr_keras.authors import AuthorsWeightsError, load_authors_weights

from tests.hdr_keras.authors.authors_helpers import assert_matches_reference, fixture_tensors
from tests.hdr_keras.authors.authors_helpers import reference_dir, write_tf1_checkpoint


def test_refuses_builtin_basis(tmp_path, monkeypatch):
    monkeypatch.delenv("HDR_KERAS_EMOR_DIR", raising=False)
    with pytest.raises(
        AuthorsWeightsError, match=r"model\.ckpt: .*invemor\.txt.*emor_dir"
    ):
        load_authors_weights("liu", tmp_path / "model.ckpt")


def test_equals_authors_code(shared_data, tmp_path, monkeypatch):
    """The authors' build_graph (test_real_refinement.py) on the fixture: the
    final HDR (up to 1.9: relative above 1) and the stages' outputs C, B, A.
    Measured: hdr 1.3e-6 (relative 1.2e-6)."""
    monkeypatch.delenv("HDR_KERAS_EMOR_DIR", raising=False)
    folder = reference_dir(shared_data, "liu")
    emor = shared_data / "crf_emor"
    if not (emor / "invemor.txt").is_file():
        pytest.skip(f"EMoR basis not found in {emor}")
    variables, tensors = fixture_tensors(shared_data, folder)
    assert len(variables) == 249
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt", tensors)
    model = load_authors_weights("liu", prefix, emor_dir=emor)
    ref = np.load(folder / "ref.npz")
    ldr = ref["ldr"][None]  # 128 x 192: a multiple of 64, no padding inside
    hdr = model.predict(ldr, verbose=0)[0]
    assert_matches_reference(hdr, ref["hdr"], "liu hdr")
    # The stages, through the model's own sub-networks and curve layer.
    dequantized = model.get_layer("dequantization")(ldr)
    inverse_crf = model.get_layer("linearization")(dequantized)
    linear = model.get_layer("apply_inverse_crf")([dequantized, inverse_crf])
    hallucinated = model.get_layer("hallucination")(linear)
    assert_matches_reference(dequantized[0], ref["C"], "liu C")
    assert_matches_reference(inverse_crf[0], ref["invcrf"], "liu invcrf")
    assert_matches_reference(linear[0], ref["B"], "liu B")
    assert_matches_reference(hallucinated[0], ref["A"], "liu A")
    del tensors["Refinement_Net/conv2d_7/bias"]
    prefix = write_tf1_checkpoint(tmp_path / "short" / "model.ckpt", tensors)
    with pytest.raises(
        AuthorsWeightsError,
        match=r"model\.ckpt: missing variable Refinement_Net/conv2d_7/bias",
    ):
        load_authors_weights("liu", prefix, emor_dir=emor)
