"""Data parallelism, crash-safe resume and fine-tuning of `training.main`.

MirroredStrategy runs over 2 logical CPUs; MultiWorkerMirroredStrategy is refused
with a clear message (Keras 3.15 fit() fails under it). Agreement of losses and
weights between strategies is not established yet (see the project notes).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import keras
import numpy as np
import pytest

import hdr_keras  # noqa: F401  (custom objects for load_model)


def _flags(data: Path, model_dir: Path, *extra: str) -> list[str]:
    return [
        "--method=ahdrnet",
        f"--data={data}/train-*.tfrecord",
        f"--eval_data={data}/eval-*.tfrecord",
        f"--model_dir={model_dir}",
        "--steps=3",
        "--steps_per_epoch=3",
        "--batch_size=4",
        "--patch_size=16",
        "--seed=5",
        "--noexport",
        *extra,
    ]


def _weights(model_dir: Path) -> list[np.ndarray]:
    return keras.saving.load_model(model_dir / "final.keras").get_weights()


@pytest.mark.slow
def test_mirrored_over_two_cpus_trains_and_multi_worker_is_refused(
    tiny_stacks, tmp_path, run_training
):
    single = run_training(
        *_flags(tiny_stacks, tmp_path / "one", "--strategy=one_device")
    )
    assert single.returncode == 0, single.stdout + single.stderr
    mirrored = run_training(
        *_flags(
            tiny_stacks,
            tmp_path / "mirrored",
            "--strategy=mirrored",
            "--cpu_replicas=2",
        )
    )
    assert mirrored.returncode == 0, mirrored.stdout + mirrored.stderr
    config = json.loads((tmp_path / "mirrored" / "config.json").read_text())
    assert config["strategy"] == "MirroredStrategy" and config["replicas"] == 2

    refused = run_training(
        *_flags(tiny_stacks, tmp_path / "multi", "--strategy=multi_worker")
    )
    assert refused.returncode != 0 and "multi_worker is not supported" in refused.stderr

    assert (tmp_path / "mirrored" / "final.keras").exists()


@pytest.mark.slow
def test_sigkill_then_resume_continues_from_last_checkpoint(
    tiny_stacks, tmp_path, start_training, run_training
):
    model_dir = tmp_path / "run"
    flags = _flags(tiny_stacks, model_dir, "--checkpoint_every=1")
    flags = [f for f in flags if not f.startswith(("--steps=", "--steps_per_epoch="))]
    flags += ["--steps=40", "--steps_per_epoch=10"]
    process = start_training(*flags)
    checkpoints = model_dir / "checkpoints"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if (checkpoints / "checkpoint").exists() and len(
                list(checkpoints.glob("ckpt-*.index"))
            ) >= 2:
                break
            time.sleep(0.1)
        assert process.poll() is None, "training ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    assert not (model_dir / "final.keras").exists()

    resumed = run_training(*flags)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming from step " in resumed.stdout
    step = int(resumed.stdout.split("resuming from step ")[1].split()[0])
    assert 1 <= step < 40
    assert (checkpoints / "ckpt-40.index").exists()
    assert (model_dir / "final.keras").exists()


@pytest.mark.slow
def test_init_from_and_freeze(tiny_stacks, tmp_path, run_training):
    first = run_training(*_flags(tiny_stacks, tmp_path / "base"))
    assert first.returncode == 0, first.stdout + first.stderr
    base = keras.saving.load_model(tmp_path / "base" / "final.keras")
    tuned_run = run_training(
        *_flags(
            tiny_stacks,
            tmp_path / "tuned",
            f"--init_from={tmp_path / 'base'}",
            "--freeze=encoder,attention",
        )
    )
    assert tuned_run.returncode == 0, tuned_run.stdout + tuned_run.stderr
    assert "froze" in tuned_run.stdout
    tuned = keras.saving.load_model(tmp_path / "tuned" / "final.keras")
    spec = hdr_keras.get_method("ahdrnet")
    frozen_patterns = spec.parts["encoder"] + spec.parts["attention"]
    import fnmatch

    changed = frozen = 0
    for layer in base.layers:
        if not layer.weights:
            continue
        same = all(
            np.array_equal(a, b)
            for a, b in zip(
                layer.get_weights(), tuned.get_layer(layer.name).get_weights()
            )
        )
        if any(fnmatch.fnmatch(layer.name, p) for p in frozen_patterns):
            assert same, f"frozen layer {layer.name} changed"
            frozen += 1
        else:
            changed += not same
    assert frozen >= 2 and changed >= 1

    wrong = run_training(*_flags(tiny_stacks, tmp_path / "x", "--freeze=wings"))
    assert wrong.returncode != 0 and "wings" in wrong.stderr
    assert "Traceback" not in wrong.stderr


@pytest.mark.slow
def test_mixed_precision_keeps_float32_outputs(tiny_stacks, tmp_path, run_training):
    result = run_training(
        *_flags(tiny_stacks, tmp_path / "mp", "--mixed_precision=mixed_bfloat16")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    model = keras.saving.load_model(tmp_path / "mp" / "final.keras")
    ldr = np.random.default_rng(0).uniform(0, 1, (1, 3, 16, 16, 3)).astype("float32")
    out = model({"ldr": ldr, "exposure": np.float32([[0, 2, 4]])})
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert np.isfinite(np.asarray(out)).all()
