"""A sixth method needs its package and one registry entry, no edit of the apps.

The test-only package `tests/training/toy_method` (laid out like
`hdr_keras.methods.<family>`: model, its own layer, spec) is registered, then
trained for 2 steps through `training.main` (data pipeline, evaluation, export)
in-process, for a single-image and a stack toy method.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl import flags

import hdr_keras
from hdr_keras import registry
from training import main as training_main

HERE = Path(__file__).resolve().parent


@pytest.fixture
def toy_specs(monkeypatch):
    """Registers the toy methods as `registry.SPECS` would list them."""
    monkeypatch.syspath_prepend(str(HERE))
    toy = importlib.import_module("toy_method")
    for spec in toy.SPECS:
        monkeypatch.setitem(registry._METHODS, spec.name, spec)
    return {spec.input_kind: spec for spec in toy.SPECS}


def _train(*argv):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["training.main", *argv])
    try:
        return training_main.run()
    finally:
        flags.FLAGS.unparse_flags()


@pytest.mark.parametrize(
    "input_kind, baselines",
    [
        ("single", {"baseline_inverse_curve"}),
        ("stack", {"baseline_reference_frame", "baseline_triangle_merge"}),
    ],
)
def test_a_registered_toy_method_trains_evaluates_and_exports(
    toy_specs, input_kind, baselines, tiny_data, tiny_stacks, tmp_path, capsys
):
    spec = toy_specs[input_kind]
    assert spec.name in hdr_keras.list_methods()
    data = tiny_data if input_kind == "single" else tiny_stacks
    model_dir = tmp_path / "run"
    results = _train(
        f"--method={spec.name}",
        f"--data={data}/train-*.tfrecord",
        f"--eval_data={data}/eval-*.tfrecord",
        f"--model_dir={model_dir}",
        "--steps=2",
        "--steps_per_epoch=1",
        "--batch_size=2",
        "--patch_size=32",
        "--freeze=gain",
    )
    assert set(results) == {spec.name, *baselines}
    assert all(np.isfinite(v) for v in results[spec.name]["mean"].values())
    history = json.loads((model_dir / "history.json").read_text())
    assert [entry["epoch"] for entry in history] == [0, 1]

    model = hdr_keras.load_model(model_dir / "final.keras")
    assert model.name == spec.name
    # --freeze=gain (a part of the spec): the gain kept its initial value.
    assert float(model.get_layer("gain").log_gain) == 0.0
    served = tf.saved_model.load(str(model_dir / "export" / "1"))
    signature = served.signatures["serving_default"]
    rng = np.random.default_rng(0)
    if input_kind == "single":
        inputs = {"ldr": rng.uniform(0, 1, (1, 19, 23, 3)).astype("float32")}
        expected = model(inputs["ldr"])
    else:
        inputs = {
            "ldr": rng.uniform(0, 1, (1, 3, 19, 23, 3)).astype("float32"),
            "exposure": np.array([[0.0, 2.0, 4.0]], "float32"),
        }
        expected = model(inputs)
    outputs = signature(**{k: tf.constant(v) for k, v in inputs.items()})
    # Same float32 network, same weights: they agree to the float32 rounding of
    # the 3x3 conv's sums (9 taps x 6 input channels at most), values of order 1.
    rounding = 9 * 6 * np.finfo(np.float32).eps
    np.testing.assert_allclose(
        outputs["hdr"],
        keras.ops.convert_to_numpy(expected),
        rtol=rounding,
        atol=rounding,
    )
