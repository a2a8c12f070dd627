"""End-to-end `python -m training.main` runs on tiny data, and its error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import hdr_keras  # noqa: F401  (custom objects for load_model)
from tfrecords.shards import write_sharded
from tfrecords.sources.synthetic import synthetic_hdr_records
from tfrecords.sources.synthetic_stack import synthetic_stack_records

REPO = Path(__file__).resolve().parents[2]


def _train(*flags, cache=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if cache is not None:
        env["HDR_KERAS_CACHE"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", "training.main", *flags],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_sharded(synthetic_hdr_records(4, 48, 48), root, "train", 2)
    write_sharded(synthetic_hdr_records(2, 40, 56, first_seed=100), root, "eval", 1)
    return root


@pytest.mark.slow
def test_few_steps_end_to_end(tiny_data, tmp_path):
    model_dir = tmp_path / "run"
    result = _train(
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


def test_unknown_method_lists_valid_names(tmp_path):
    result = _train("--method=hdrcnn", f"--model_dir={tmp_path}")
    assert result.returncode != 0
    assert "unknown method 'hdrcnn'" in result.stderr and "eilertsen" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_shard_is_named(tiny_data, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shard = sorted(tiny_data.glob("train-*"))[0].read_bytes()
    (data / "train-00000-of-00001.tfrecord").write_bytes(shard[:-200])
    result = _train(
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


@pytest.fixture(scope="module")
def tiny_stacks(tmp_path_factory):
    root = tmp_path_factory.mktemp("stacks")
    write_sharded(synthetic_stack_records(4, 40, 40), root, "train", 2)
    write_sharded(synthetic_stack_records(2, 36, 52, first_seed=100), root, "eval", 1)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ahdrnet", "wu_resnet", "wu_unet"])
def test_stack_method_end_to_end(method, tiny_stacks, tmp_path):
    model_dir = tmp_path / method
    result = _train(
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
