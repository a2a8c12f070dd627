"""export_model(jit_compile="off"|"on"|"auto"): XLA inside the served SavedModel."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

import hdr_keras
from hdr_keras.export import xla
from hdr_keras.inference.metadata import read_metadata
from serving import export

# The bound on |served XLA - served plain| (hdr_keras.export.xla.TOLERANCE).
TOLERANCE = 1e-5
TINY_SIZES = [(16, 24), (24, 40)]


def xla_functions(path) -> list[str]:
    """Names of the graph functions of a SavedModel that XLA must compile."""
    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((path / "saved_model.pb").read_bytes())
    library = saved.meta_graphs[0].graph_def.library
    return [
        function.signature.name
        for function in library.function
        if function.attr["_XlaMustCompile"].b
    ]


@pytest.fixture(scope="module")
def tiny_ahdrnet():
    return hdr_keras.build_model(
        "ahdrnet", features=4, growth=4, dense_layers=1, blocks=1
    )


def test_on_and_off_serve_equal_outputs(tiny_ahdrnet, tmp_path):
    base = tmp_path / "m"
    plain = export.export_model(tiny_ahdrnet, base, "stack", jit_compile="off")
    compiled = export.export_model(tiny_ahdrnet, base, "stack", jit_compile="on")
    assert xla_functions(plain) == []
    assert xla_functions(compiled), "no function of the 'on' export is XLA-compiled"
    assert read_metadata(plain).jit_compile["compiled"] is False
    decision = read_metadata(compiled).jit_compile
    assert (decision["mode"], decision["compiled"]) == ("on", True)
    assert decision["check"]["max_abs_difference"] <= TOLERANCE
    rng = np.random.default_rng(3)
    ldr = tf.constant(rng.uniform(0, 1, (2, 3, 40, 56, 3)), tf.float32)
    exposure = tf.constant([[0.0, 2.0, 4.0], [0.0, 1.0, 2.0]])
    outputs = [
        tf.saved_model.load(str(path)).signatures["serving_default"](
            ldr=ldr, exposure=exposure
        )
        for path in (plain, compiled)
    ]
    for name in ("hdr", "tonemapped"):
        np.testing.assert_allclose(
            outputs[1][name].numpy(), outputs[0][name].numpy(), rtol=0, atol=TOLERANCE
        )
    # A second image size recompiles; the validation still runs outside XLA.
    served = tf.saved_model.load(str(compiled)).signatures["serving_default"]
    assert served(ldr=ldr[:, :, :24, :32], exposure=exposure)["hdr"].shape == (
        2,
        24,
        32,
        3,
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="ldr"):
        served(ldr=ldr + 2.0, exposure=exposure)


def test_auto_measures_and_records_its_decision(tmp_path, helpers):
    model = helpers.tiny_single_model()
    path = export.export_model(
        model,
        tmp_path / "m",
        "single",
        jit_compile="auto",
        jit_measure={"sizes": TINY_SIZES, "warmup": 1, "runs": 2},
    )
    decision = read_metadata(path).jit_compile
    assert decision["mode"] == "auto"
    assert [(row["height"], row["width"]) for row in decision["sizes"]] == TINY_SIZES
    for row in decision["sizes"]:
        assert row["plain_s"] > 0 and row["xla_s"] > 0
        assert row["xla_compile_s"] >= 0
        assert row["max_abs_difference"] <= TOLERANCE
    faster = decision["xla_total_s"] < decision["plain_total_s"]
    assert decision["compiled"] is faster
    assert decision["xla_total_s"] == pytest.approx(
        sum(row["xla_s"] for row in decision["sizes"])
    )
    assert bool(xla_functions(path)) is faster
    machine = decision["machine"]
    assert {"cpu", "cpu_features", "onednn_enabled", "tensorflow"} <= set(machine)
    assert "XLA" in decision["rule"] and "1e-05" in decision["rule"]


def test_auto_falls_back_to_plain_when_the_outputs_differ(monkeypatch, helpers):
    monkeypatch.setattr(xla, "max_abs_difference", lambda first, second: 2e-5)
    decision = xla.decide(
        helpers.tiny_single_model(), "single", "auto", sizes=TINY_SIZES[:1], runs=1
    )
    assert decision["compiled"] is False
    assert "differs from plain by 2e-05" in decision["reason"]
    assert "16x24" in decision["reason"]


def test_kalantari_is_never_compiled():
    model = hdr_keras.build_model("kalantari_we")
    with pytest.raises(ValueError, match="kalantari_we.*FlowAlignment"):
        xla.decide(model, "stack", "on", method="kalantari_we")
    decision = xla.decide(model, "stack", "auto", method="kalantari_we")
    assert decision["compiled"] is False
    assert "FlowAlignment" in decision["reason"]
    assert "while loops" in decision["reason"]
    assert decision["sizes"] == []  # nothing timed


@pytest.mark.slow
def test_kalantari_flow_xla_is_kept_by_auto_and_removed_by_off(tmp_path):
    """The flow's own XLA programs stay in an "auto" export (fast; the server needs
    XLA:CPU JIT) and leave an "off" one (a graph any TF Serving runs); both serve
    the same HDR up to float32 rounding."""
    model = hdr_keras.build_model("kalantari_we")
    (layer,) = xla.internal_xla_layers(model)
    auto = export.export_model(model, tmp_path / "m", "stack", jit_compile="auto")
    off = export.export_model(model, tmp_path / "m", "stack", jit_compile="off")
    assert layer.internal_xla  # the model itself is left as it was
    assert read_metadata(auto).jit_compile["xla_in_graph"] is True
    assert read_metadata(off).jit_compile["xla_in_graph"] is False
    assert xla_functions(auto) and not xla_functions(off)
    # a real-looking bracket: a procedural scene at 0, 2, 4 stops, the outer
    # frames moved by 1.5 px (random noise would make the flow chaotic)
    from hdr_keras.synthetic.scenes import generate_scene

    hdr = generate_scene(3, 40, 60)
    hdr = hdr * (0.5 / np.percentile(hdr, 90))
    frames = [
        np.clip(np.roll(hdr, shift, 1)[:, 2:58] * 2.0**stops, 0, 1) ** (1 / 2.2)
        for shift, stops in ((1, -2.0), (0, 0.0), (-1, 2.0))
    ]
    ldr = tf.constant(np.stack(frames)[None], tf.float32)
    exposure = tf.constant([[0.0, 2.0, 4.0]])
    outputs = [
        tf.saved_model.load(str(path)).signatures["serving_default"](
            ldr=ldr, exposure=exposure
        )["hdr"].numpy()
        for path in (auto, off)
    ]
    # the two flows differ by XLA's float32 reassociation only (at most 2e-3 px,
    # tests/hdr_keras/ops/flow/test_estimate.py); on this smooth scene (gradients
    # below 0.05 per px) that moves the warped frames, and the output, by < 1e-4
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-4)


def test_bad_mode_is_refused_before_anything_is_written(tmp_path, helpers):
    with pytest.raises(ValueError, match="jit_compile must be one of off, on, auto"):
        export.export_model(
            helpers.tiny_single_model(), tmp_path / "m", "single", jit_compile="yes"
        )
    assert not any((tmp_path / "m").iterdir())


def test_cli_flag(tmp_path, helpers):
    keras_path = tmp_path / "single.keras"
    helpers.tiny_single_model().save(keras_path)
    path = export.main(
        [f"--model={keras_path}", f"--base_path={tmp_path / 'repo'}", "--name=m"]
        + ["--jit_compile=on"]
    )
    assert read_metadata(path).jit_compile["mode"] == "on"
    assert xla_functions(path)
    # Encoded images are decoded outside XLA, then served through it.
    image = np.random.default_rng(0).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    signatures = tf.saved_model.load(str(path)).signatures
    served = signatures["serving_bytes"](images=tf.stack([tf.io.encode_png(image)]))
    ldr = tf.constant(image[None] / 255, tf.float32)
    direct = signatures["serving_default"](ldr=ldr)
    np.testing.assert_allclose(
        served["hdr"].numpy(), direct["hdr"].numpy(), rtol=0, atol=TOLERANCE
    )
    with pytest.raises(SystemExit):
        export.main(
            [f"--model={keras_path}", f"--base_path={tmp_path / 'repo'}", "--name=m"]
            + ["--jit_compile=maybe"]
        )


def test_training_export_flag():
    from training import main as training_main
    from training.run_config import RunConfig

    assert training_main.FLAGS["export_jit_compile"].default == "off"
    assert RunConfig(method="ahdrnet", export_jit_compile="auto").export_jit_compile
    with pytest.raises(ValueError, match="--export_jit_compile='yes'"):
        RunConfig(method="ahdrnet", export_jit_compile="yes")
