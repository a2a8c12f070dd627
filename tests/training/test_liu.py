"""SingleHDR training: stages through training.main, losses, real-pair evaluation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from absl import flags

import hdr_keras
from hdr_keras.methods.liu import losses
from hdr_keras.io import write_image
from hdr_keras.methods.liu import model as liu
from hdr_keras.ops.crf import builtin_basis
from hdr_keras.synthetic.scenes import generate_scene
from tfrecords.shards import write_sharded
from tfrecords.sources.camera import camera_shot_records
from tfrecords.sources.synthetic import synthetic_hdr_records
from training import configs, real_pairs
from training import main as training_main

STAGES = ("deq", "lin", "hal", "ref", "joint")
PART_OF_STAGE = {
    "deq": "dequantization",
    "lin": "linearization",
    "hal": "hallucination",
    "ref": "refinement",
}


@pytest.fixture(scope="module")
def camera_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("camera")
    basis = builtin_basis()
    write_sharded(
        camera_shot_records(synthetic_hdr_records(3, 64, 64), basis), root, "train", 1
    )
    write_sharded(
        camera_shot_records(synthetic_hdr_records(1, 64, 64, 100), basis, seed=1),
        root,
        "eval",
        1,
    )
    return root


@pytest.fixture(scope="module")
def pairs_dir(tmp_path_factory):
    """Two tiny LDR/HDR pairs (PNG + EXR) of synthetic scenes."""
    root = tmp_path_factory.mktemp("pairs")
    for seed in (200, 201):
        hdr = generate_scene(seed, 48, 64)
        scale = 1.0 / np.percentile(hdr, 90)
        write_image(root / f"{seed}.exr", hdr.astype("float32"))
        write_image(root / f"{seed}.png", np.clip(hdr * scale, 0, 1) ** (1 / 2.2))
    return root


def _run(*argv):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["training.main", "--method=liu", *argv])
    try:
        return training_main.run()
    finally:
        flags.FLAGS.unparse_flags()


def _part_weights(model) -> dict[str, list[np.ndarray]]:
    return {
        name: [np.array(w) for w in liu.submodel(model, name).weights]
        for name in liu.SUBMODELS
    }


def test_stage_configuration():
    config = configs.get_config("liu")
    assert tuple(stage.name for stage in config.stages) == STAGES
    for stage in config.stages:
        assert stage.train == (
            (PART_OF_STAGE[stage.name],) if stage.name in PART_OF_STAGE else ()
        )
    assert config.stages[-1].learning_rate == 1e-5 and config.learning_rate == 1e-4
    assert config.stage_steps(config.paper.steps) == {
        "deq": 500_000,
        "lin": 500_000,
        "hal": 500_000,
        "ref": 100_000,
        "joint": 100_000,
    }


@pytest.mark.slow
def test_all_stages_then_one_stage_train_only_their_parts(
    tmp_path, camera_data, pairs_dir, capsys
):
    model_dir = tmp_path / "run"
    common = [
        f"--data={camera_data}/train-*.tfrecord",
        f"--eval_data={camera_data}/eval-*.tfrecord",
        "--batch_size=1",
        "--patch_size=64",
        "--steps_per_epoch=5",
        "--export=false",
        f"--real_pairs={pairs_dir}",
        f"--model_dir={model_dir}",
    ]
    results = _run(*common, "--steps=5")
    out = capsys.readouterr().out
    for name in STAGES:
        assert f"stage {name!r}: 1 steps" in out
    assert set(results) == {"liu", "baseline_inverse_curve"}
    pairs = json.loads((model_dir / "real_pairs.json").read_text())
    assert set(pairs) == {"liu", "baseline_inverse_curve"}
    assert set(pairs["liu"]["per_image"]) == {"200", "201"}
    assert "real LDR/HDR pairs (2 in" in out

    # Each stage's checkpoint differs from the previous one only in its network.
    model = hdr_keras.build_model("liu")
    snapshots = {}
    for name in STAGES:
        path = tf.train.latest_checkpoint(str(model_dir / "checkpoints" / name))
        assert path.endswith("ckpt-1"), (name, path)
        tf.train.Checkpoint(full=model).restore(path).expect_partial()
        snapshots[name] = _part_weights(model)
    for previous, name in zip(STAGES[:-2], STAGES[1:-1]):
        for part, weights in snapshots[name].items():
            same = all(
                np.array_equal(a, b) for a, b in zip(weights, snapshots[previous][part])
            )
            assert same == (part != PART_OF_STAGE[name]), (name, part)
    changed = [  # the joint stage trains every network
        not all(np.array_equal(a, b) for a, b in zip(weights, snapshots["ref"][part]))
        for part, weights in snapshots["joint"].items()
    ]
    assert all(changed)

    # One stage alone (--stage) resumes from its own checkpoint (the state after
    # stage "deq") and trains only its network.
    _run(*common, "--stage=deq", "--steps=2")
    assert "resuming from step 1" in capsys.readouterr().out
    again = _part_weights(hdr_keras.load_model(model_dir))
    for part, weights in again.items():
        same = all(
            np.array_equal(a, b) for a, b in zip(weights, snapshots["deq"][part])
        )
        assert same == (part != "dequantization"), part


def test_unknown_stage_lists_the_stages(tmp_path, camera_data):
    with pytest.raises(training_main.UserError, match="deq, lin, hal, ref, joint"):
        _run(
            f"--data={camera_data}/train-*.tfrecord",
            "--stage=refine",
            f"--model_dir={tmp_path}",
        )


def test_real_pairs_flags_fail_before_training(tmp_path):
    with pytest.raises(ValueError, match="--real_pairs: no such folder"):
        real_pairs.plan("liu", "single", str(tmp_path / "nope"), None)
    with pytest.raises(ValueError, match="not a single-image method"):
        real_pairs.plan("ahdrnet", "stack", str(tmp_path), None)
    with pytest.raises(ValueError, match="--real_pairs_eilertsen"):
        real_pairs.plan("liu", "single", str(tmp_path), str(tmp_path / "x.keras"))
    assert real_pairs.plan("eilertsen", "single", None, None) == (None, None)


def test_real_pairs_alignment_removes_the_exposure_scale(shared_data):
    folder = real_pairs.find_real_pairs(shared_data / real_pairs.PAIRS_SUBDIR)
    examples = real_pairs.load_real_pairs(folder, crop=64)
    assert [name for *_, name in examples] == [f"000{i}" for i in range(1, 8)]
    assert examples[0][0].shape == examples[0][1].shape == (1, 64, 64, 3)
    baseline = real_pairs.predictors_for("liu", lambda x, training: x**2)
    brighter = {"scaled": lambda x: 7.0 * baseline["liu"](x)}
    results = real_pairs.evaluate_real_pairs({**baseline, **brighter}, examples)
    assert list(results["liu"]["mean"]) == list(real_pairs.PAIR_METRICS)
    for metric, value in results["liu"]["mean"].items():
        assert results["scaled"]["mean"][metric] == pytest.approx(value, rel=1e-3)
        assert results["baseline_inverse_curve"]["mean"][metric] == pytest.approx(
            value, rel=1e-3
        )


# ----------------------------------------------------------------------- losses
def test_hallucination_loss_terms_and_missing_vgg_warning(caplog):
    rng = np.random.default_rng(0)
    true = rng.uniform(0, 4, (2, 16, 16, 3)).astype("float32")
    pred = rng.uniform(0, 4, (2, 16, 16, 3)).astype("float32")
    t = np.log1p(10 * true) / np.log(11)
    p = np.log1p(10 * pred) / np.log(11)
    tv = (np.abs(np.diff(p, axis=1)).sum() + np.abs(np.diff(p, axis=2)).sum()) / p.size
    with caplog.at_level("WARNING", logger="hdr_keras.methods.liu.losses"):
        loss = losses.HallucinationLoss()
    assert "perceptual term" in caplog.text and "disabled" in caplog.text
    expected = np.abs(p - t).mean() + 0.1 * tv
    assert float(loss(true, pred)) == pytest.approx(expected, rel=1e-5)
    assert float(losses.HallucinationLoss(tv_weight=0)(true, true)) == 0.0


def test_hallucination_loss_perceptual_term_from_a_local_file(tmp_path, random_vgg16):
    path, vgg = random_vgg16
    rng = np.random.default_rng(1)
    true = rng.uniform(0, 2, (1, 32, 32, 3)).astype("float32")
    pred = rng.uniform(0, 2, (1, 32, 32, 3)).astype("float32")
    with_vgg = losses.HallucinationLoss(str(path), perceptual_weight=1.0, tv_weight=0)
    plain = losses.HallucinationLoss(perceptual_weight=0.0, tv_weight=0)
    assert float(with_vgg(true, pred)) > float(plain(true, pred)) > 0
    assert float(with_vgg(true, true)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        losses.HallucinationLoss(str(tmp_path / "missing.h5"))


def test_refinement_and_l2_losses():
    rng = np.random.default_rng(2)
    true = rng.uniform(0, 3, (2, 8, 8, 3)).astype("float32")
    # Mean normalisation: a brighter copy of the target costs nothing.
    assert float(losses.RefinementLoss()(true, 5.0 * true)) == pytest.approx(
        0.0, abs=1e-5
    )
    assert float(losses.RefinementLoss(normalize=False)(true, 5.0 * true)) > 0.1
    pred = true + 0.1
    assert float(losses.L2Loss()(true, pred)) == pytest.approx(0.01, rel=1e-4)
    assert float(losses.curve_l2_loss()(true, pred)) == pytest.approx(0.001, rel=1e-4)
    joint = losses.liu_joint_losses()
    assert set(joint) == set(liu.JOINT_OUTPUTS)
    clone = losses.HallucinationLoss.from_config(joint["hallucinated"].get_config())
    assert clone.get_config() == joint["hallucinated"].get_config()
