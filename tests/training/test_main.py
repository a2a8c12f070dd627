"""End-to-end `python -m training.main` runs on tiny data, and its error messages."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import hdr_keras  # noqa: F401  (custom objects for load_model)


@pytest.mark.slow
def test_few_steps_end_to_end(tiny_data, tmp_path, run_training):
    model_dir = tmp_path / "run"
    result = run_training(
        "--method=eilertsen",
        f"--data={tiny_data}/train-*.tfrecord",
        f"--eval_data={tiny_data}/eval-*.tfrecord",
        f"--model_dir={model_dir}",
        "--steps=2",
        "--steps_per_epoch=1",
        "--batch_size=2",
        "--patch_size=32",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Epoch 2/2" in result.stdout  # Keras progress bar

    evaluation = json.loads((model_dir / "eval.json").read_text())
    assert set(evaluation) == {"eilertsen", "baseline_inverse_curve"}
    for entry in evaluation.values():
        assert set(entry["mean"]) == {"psnr_mu", "psnr_l", "ssim_mu"}
        assert len(entry["per_image"]) == 2
        assert all(np.isfinite(v) for v in entry["mean"].values())
    assert "baseline_inverse_curve" in result.stdout and "psnr_mu" in result.stdout

    assert sorted(p.name for p in (model_dir / "previews").glob("*.png")) == [
        "epoch_0001.png",
        "epoch_0002.png",
    ]
    events = list((model_dir / "logs").rglob("events.out.tfevents.*"))
    assert len(events) >= 2  # train scalars and previews
    config = json.loads((model_dir / "config.json").read_text())
    assert config["steps"] == 2 and config["patch_size"] == 32

    model = keras.saving.load_model(model_dir / "final.keras")
    served = tf.saved_model.load(str(model_dir / "export" / "1"))
    ldr = np.random.default_rng(0).uniform(0, 1, (1, 37, 53, 3)).astype("float32")
    outputs = served.signatures["serving_default"](ldr=tf.constant(ldr))
    np.testing.assert_allclose(outputs["hdr"], model(ldr), rtol=1e-4, atol=1e-6)
    assert float(tf.reduce_max(outputs["tonemapped"])) <= 1.0


def test_unknown_method_lists_valid_names(tmp_path, run_training):
    result = run_training("--method=hdrcnn", f"--model_dir={tmp_path}")
    assert result.returncode != 0
    assert "unknown method 'hdrcnn'" in result.stderr and "eilertsen" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_shard_is_named(tiny_data, tmp_path, run_training):
    data = tmp_path / "data"
    data.mkdir()
    shard = sorted(tiny_data.glob("train-*"))[0].read_bytes()
    (data / "train-00000-of-00001.tfrecord").write_bytes(shard[:-200])
    result = run_training(
        "--method=eilertsen",
        f"--data={data}",
        f"--eval_data={tiny_data}/eval-*.tfrecord",
        f"--model_dir={tmp_path / 'run'}",
        "--steps=1",
    )
    assert result.returncode != 0
    assert (
        "train-00000-of-00001.tfrecord" in result.stderr
        and "truncated" in result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ahdrnet", "wu_resnet", "wu_unet"])
def test_stack_method_end_to_end(method, tiny_stacks, tmp_path, run_training):
    model_dir = tmp_path / method
    result = run_training(
        f"--method={method}",
        f"--data={tiny_stacks}/train-*.tfrecord",
        f"--eval_data={tiny_stacks}/eval-*.tfrecord",
        f"--model_dir={model_dir}",
        "--steps=2",
        "--steps_per_epoch=2",
        "--batch_size=2",
        "--patch_size=32",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    evaluation = json.loads((model_dir / "eval.json").read_text())
    assert set(evaluation) == {
        method,
        "baseline_reference_frame",
        "baseline_triangle_merge",
    }
    for entry in evaluation.values():
        assert set(entry["mean"]) == {"psnr_mu", "psnr_l", "ssim_mu"}
        assert all(np.isfinite(v) for v in entry["mean"].values())
    model = keras.saving.load_model(model_dir / "final.keras")
    served = tf.saved_model.load(str(model_dir / "export" / "1"))
    rng = np.random.default_rng(1)
    ldr = rng.uniform(0, 1, (1, 3, 21, 35, 3)).astype("float32")
    exposure = np.array([[0.0, 2.0, 4.0]], "float32")
    outputs = served.signatures["serving_default"](
        ldr=tf.constant(ldr), exposure=tf.constant(exposure)
    )
    expected = model({"ldr": ldr, "exposure": exposure})
    np.testing.assert_allclose(outputs["hdr"], expected, rtol=1e-4, atol=1e-6)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="N=2 values but ldr has N=3"
    ):
        served.signatures["serving_default"](
            ldr=tf.constant(ldr), exposure=tf.constant(exposure[:, :2])
        )
