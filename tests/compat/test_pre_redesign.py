"""Files written by hdr-keras before the "one home per method" redesign still load.

`pre_redesign/` holds, per registered method, a `.keras` file and a SavedModel
version written by the code of commit b706bba (`make_fixtures.py`), and the outputs
that code computed. Today's code must load both and compute the same outputs.

Tolerance: the same float32 network evaluated on another CPU (other SIMD width,
oneDNN kernels, thread count) sums its reductions in another order. A reduction of
K terms errs by at most K * u relative (u = 2**-24); the largest here has
K = 3 * 3 * 512 = 4608 (2.7e-4), and the errors of ~30 chained layers partly
cancel, so outputs agree to well within OUTPUT_RTOL = 1e-3 of their scale (the
output's largest value). A model that lost a layer, a weight or its order is off by
the output's own scale.
"""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import hdr_keras

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "pre_redesign"
OUTPUT_RTOL = 1e-3

sys.path.insert(0, str(HERE))
from weights import learned_variables, set_deterministic_weights  # noqa: E402

METHODS = sorted(p.name[: -len(".keras")] for p in FIXTURES.glob("*.keras"))


@pytest.fixture(scope="module")
def recorded():
    with np.load(FIXTURES / "outputs.npz") as data:
        return dict(data)


def _inputs(recorded, kind: str):
    if kind == "stack":
        return {"ldr": recorded["stack/ldr"], "exposure": recorded["stack/exposure"]}
    return {"ldr": recorded["single/ldr"]}


def _close(got, want, what: str) -> None:
    scale = max(float(np.abs(want).max()), 1e-6)
    np.testing.assert_allclose(
        got, want, rtol=0, atol=OUTPUT_RTOL * scale, err_msg=what
    )


def test_every_method_has_fixtures():
    assert METHODS == hdr_keras.list_methods()


@pytest.mark.parametrize("method", METHODS)
def test_keras_file_loads_and_computes_as_before(recorded, method):
    model = keras.saving.load_model(FIXTURES / f"{method}.keras")
    assert model.name == method
    # The file stored zeros in every learned variable (make_fixtures.py).
    assert not any(np.any(v.numpy()) for _, v in learned_variables(model))
    set_deterministic_weights(model)
    kind = hdr_keras.get_method(method).input_kind
    inputs = _inputs(recorded, kind)
    feed = inputs if kind == "stack" else inputs["ldr"]
    _close(np.asarray(model(feed, training=False)), recorded[f"{method}/keras"], method)


@pytest.mark.parametrize("method", METHODS)
def test_savedmodel_serves_as_before(recorded, method, tmp_path):
    with tarfile.open(FIXTURES / f"{method}.savedmodel.tar.xz") as tar:
        tar.extractall(tmp_path / method, filter="data")
    signature = tf.saved_model.load(str(tmp_path / method / "1")).signatures[
        "serving_default"
    ]
    kind = hdr_keras.get_method(method).input_kind
    result = signature(**{k: tf.constant(v) for k, v in _inputs(recorded, kind).items()})
    for output in ("hdr", "tonemapped"):
        _close(result[output].numpy(), recorded[f"{method}/saved_{output}"], output)


@pytest.mark.parametrize("method", ["eilertsen", "ahdrnet", "mertens"])
def test_predict_reads_an_old_savedmodel_as_its_method(recorded, method, tmp_path):
    """A SavedModel without metadata (all of them before the redesign) in a folder
    named after its method is predicted with that method's stride and output kind."""
    from serving.predict import load_backend

    with tarfile.open(FIXTURES / f"{method}.savedmodel.tar.xz") as tar:
        tar.extractall(tmp_path / method, filter="data")
    spec = hdr_keras.get_method(method)
    backend = load_backend(model=str(tmp_path / method))
    assert backend.input_kind == spec.input_kind
    assert backend.stride == spec.stride
    assert backend.output_kind == spec.output_kind
    inputs = _inputs(recorded, spec.input_kind)
    hdr = backend.predict(inputs["ldr"], inputs.get("exposure"))
    _close(hdr, recorded[f"{method}/saved_hdr"], method)
