"""Kalantari 2017 in training.main: aligned patches, cropped target, WIE's stages."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import hdr_keras
from tfrecords import patches
from tfrecords.schema import encode_stack_example
from tfrecords.shards import write_sharded
from training import configs, data


@pytest.fixture(scope="module")
def aligned_patches(tmp_path_factory):
    """Two 56 x 56 synthetic stacks aligned with optical flow, cut into 40 x 40
    patches (border 0, so 4 candidates each), as the patch writer does."""
    from hdr_keras.synthetic.stacks import generate_stack

    root = tmp_path_factory.mktemp("kalantari_patches")
    stacks = [generate_stack(seed, 56, 56, 3) for seed in (3, 4)]
    records = [
        encode_stack_example(s["ldr"], s["exposure"], s["hdr"], f"s{i}")
        for i, s in enumerate(stacks)
    ]
    aligned = patches.align_records(records, patches.flow_aligner())
    write_sharded(patches.patch_records(aligned, border=0), root, "train", 2)
    return root


def test_configs_follow_the_paper():
    for method in ("kalantari_direct", "kalantari_we", "kalantari_wie"):
        config = configs.get_config(method)
        assert (
            config.learning_rate == 1e-4 and config.training_data == "aligned_patches"
        )
        assert (config.paper.batch_size, config.paper.patch_size) == (20, 40)
        assert (config.quick.batch_size, config.quick.patch_size) == (20, 40)
        assert data.trains_on_aligned_patches(hdr_keras.get_method(method))
    assert [s.name for s in configs.get_config("kalantari_wie").stages] == [
        "refine",
        "joint",
    ]
    assert not configs.get_config("kalantari_we").stages
    assert not data.trains_on_aligned_patches(hdr_keras.get_method("ahdrnet"))


def _check_run(model_dir, method):
    evaluation = json.loads((model_dir / "eval.json").read_text())
    assert set(evaluation) == {
        method,
        "baseline_reference_frame",
        "baseline_triangle_merge",
    }
    assert all(np.isfinite(v) for v in evaluation[method]["mean"].values())
    model = keras.saving.load_model(model_dir / "final.keras")
    served = tf.saved_model.load(str(model_dir / "export" / "1"))
    rng = np.random.default_rng(1)
    ldr = rng.uniform(0, 1, (1, 3, 21, 35, 3)).astype("float32")
    exposure = np.array([[0.0, 2.0, 4.0]], "float32")
    outputs = served.signatures["serving_default"](
        ldr=tf.constant(ldr), exposure=tf.constant(exposure)
    )
    expected = model({"ldr": ldr, "exposure": exposure})
    assert outputs["hdr"].shape == (1, 21, 35, 3)  # raw bracket in, same size out
    np.testing.assert_allclose(outputs["hdr"], expected, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_kalantari_wie_trains_two_stages_on_aligned_patches_end_to_end(
    aligned_patches, tiny_stacks, tmp_path, run_training
):
    # One run covers the three variants' shared path (aligned patches, cropped
    # target, evaluation of the aligning serving model, export) and WIE's stages.
    model_dir = tmp_path / "wie"
    result = run_training(
        "--method=kalantari_wie",
        f"--data={aligned_patches}/train-*.tfrecord",
        f"--eval_data={tiny_stacks}/eval-*.tfrecord",
        f"--model_dir={model_dir}",
        "--steps=4",
        "--steps_per_epoch=2",
        "--batch_size=4",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stage 'refine'" in result.stdout and "stage 'joint'" in result.stdout
    settings = json.loads((model_dir / "config.json").read_text())
    assert (settings["patch_size"], settings["learning_rate"]) == (40, 1e-4)
    _check_run(model_dir, "kalantari_wie")
