"""Data parallelism, crash-safe resume and fine-tuning of `training.main`.

Data parallelism without GPUs: MirroredStrategy over 2 logical CPU devices and
MultiWorkerMirroredStrategy over 2 worker processes on 127.0.0.1 must reproduce the
single-device run (same seed, same global batch) within float rounding.
"""

from __future__ import annotations

import json
import signal
import socket
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
        f"--steps={STEPS}",
        f"--steps_per_epoch={STEPS}",
        "--batch_size=4",
        "--patch_size=16",
        "--seed=5",
        "--noexport",
        *extra,
    ]


def _weights(model_dir: Path) -> list[np.ndarray]:
    return keras.saving.load_model(model_dir / "final.keras").get_weights()


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _losses(model_dir: Path) -> list[float]:
    history = json.loads((model_dir / "history.json").read_text())
    return [entry["loss"] for entry in history]


# The agreement test trains with plain SGD (`--optimizer=sgd`): its update -lr * g
# is linear in the gradient, so float rounding in the gradient stays float rounding
# in the weights. (Adam divides by sqrt(v): where a gradient is near zero, the
# rounding noise of a sum taken in another order decides the sign of a step of
# size ~lr, and a weight can move by 2 * lr per step between two correct runs.)
#
# Where two correct runs may differ, and by how much:
# - the gradients: float32 sums in another order (per-replica partial sums, other
#   convolution algorithms for a batch of 2 instead of 4). One reduction of n
#   terms errs by at most n * u (u = 2**-24 = 6e-8); AHDRNet's largest has
#   n = 3 * 3 * 256 = 2304 (1.4e-4), and backpropagation chains ~25 of them, so
#   the gradient's relative error stays below ~3.5e-3. GRADIENT_RTOL = 1e-2 of
#   the largest update of each weight tensor bounds it with margin; a real fault
#   (a replica scaling the loss twice, replicas reading the same examples) shows
#   as an error of order 1 of that update.
# - the weights: each of the STEPS updates rounds w - lr * g to float32; when the
#   two runs' lr * g differ by rounding, the results may land one unit in the last
#   place (ulp) of w apart per step: STEPS * 2 ulp(w) per element.
# - the loss: a forward pass through the same chain of reductions, so the same
#   relative bound (3.5e-3) at most; LOSS_RTOL = 1e-2, against a factor 2 that a
#   replica-scaling fault would give.
STEPS = 3
GRADIENT_RTOL = 1e-2
LOSS_RTOL = 1e-2


def _initial_weights(seed: int) -> list[np.ndarray]:
    """The weights training.main starts from with --seed=seed (same builder, seed)."""
    keras.utils.set_random_seed(seed)
    return hdr_keras.build_model("ahdrnet").get_weights()


@pytest.mark.slow
def test_one_device_mirrored_and_two_workers_agree(
    tiny_stacks, tmp_path, run_training, start_training
):
    """Same seed, same global batch of 4, plain SGD: one device, MirroredStrategy
    over 2 logical CPUs, and 2 worker processes (MultiWorkerMirroredStrategy on
    127.0.0.1) reach the same weights up to float rounding (bounds above)."""
    sgd = "--optimizer=sgd"
    single = run_training(
        *_flags(tiny_stacks, tmp_path / "one", "--strategy=one_device", sgd)
    )
    assert single.returncode == 0, single.stdout + single.stderr
    mirrored = run_training(
        *_flags(
            tiny_stacks,
            tmp_path / "mirrored",
            "--strategy=mirrored",
            "--cpu_replicas=2",
            sgd,
        )
    )
    assert mirrored.returncode == 0, mirrored.stdout + mirrored.stderr
    config = json.loads((tmp_path / "mirrored" / "config.json").read_text())
    assert config["strategy"] == "MirroredStrategy" and config["replicas"] == 2

    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = [
        start_training(
            *_flags(tiny_stacks, tmp_path / "multi", "--strategy=multi_worker", sgd),
            TF_CONFIG=json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
        )
        for index in range(2)
    ]
    outputs = []
    for worker in workers:
        try:
            outputs.append(worker.communicate(timeout=600)[0])
        finally:
            worker.kill()
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output
    config = json.loads((tmp_path / "multi" / "config.json").read_text())
    # TF's class behind tf.distribute.MultiWorkerMirroredStrategy.
    assert config["strategy"] == "CollectiveAllReduceStrategy"
    assert config["replicas"] == 2
    # Only the chief (worker 0) wrote into --model_dir.
    assert (tmp_path / "multi" / "final.keras").exists()

    reference_losses = _losses(tmp_path / "one")
    reference = _weights(tmp_path / "one")
    initial = _initial_weights(5)
    updates = [np.abs(want - start).max() for want, start in zip(reference, initial)]
    # The training moved the weights.
    assert max(updates) > 0
    for name in ("mirrored", "multi"):
        np.testing.assert_allclose(
            _losses(tmp_path / name), reference_losses, rtol=LOSS_RTOL, err_msg=name
        )
        for index, (got, want) in enumerate(zip(_weights(tmp_path / name), reference)):
            bound = GRADIENT_RTOL * updates[index] + STEPS * 2 * np.spacing(
                np.abs(want)
            )
            excess = np.abs(got - want) - bound
            assert excess.max() <= 0, (
                f"{name}: weight tensor {index} {want.shape} differs by "
                f"{np.abs(got - want).max():.3g} (largest update "
                f"{updates[index]:.3g}, bound exceeded by {excess.max():.3g})"
            )


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
