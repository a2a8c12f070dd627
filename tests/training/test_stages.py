"""Multi-stage schedules (`training.configs.Stage`, `--stage`) in training.main.

Runs in-process with a two-stage AHDRNet configuration patched into the config
table, so the mechanism is tested independently of the methods that use it.
"""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from hdr_keras.losses import MuLawLoss
from training import configs
from training import main as training_main


def _two_stage_config():
    base = configs.get_config("ahdrnet")
    loss = lambda: MuLawLoss("l1", prediction="linear")  # noqa: E731
    return dataclasses.replace(
        base,
        stages=(
            configs.Stage("attention", loss, train=("attention",), steps=1.0),
            configs.Stage("merge", loss, train=("merge",), steps=3.0),
        ),
    )


def test_stage_steps_share_the_run():
    config = _two_stage_config()
    assert config.stage_steps(8) == {"attention": 2, "merge": 6}
    assert config.stage_steps(1) == {"attention": 1, "merge": 1}


def _run(monkeypatch, *argv):
    monkeypatch.setitem(configs.CONFIGS, "ahdrnet", _two_stage_config())
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["training.main", "--method=ahdrnet", *argv])
    try:
        return training_main.run()
    finally:
        flags.FLAGS.unparse_flags()


def _layer_weights(model, prefixes):
    return {
        w.path: np.array(w)
        for layer in model.layers
        if layer.name.startswith(prefixes)
        for w in layer.weights
    }


@pytest.fixture
def common_flags(tiny_stacks):
    return [
        f"--data={tiny_stacks}/train-*.tfrecord",
        f"--eval_data={tiny_stacks}/eval-*.tfrecord",
        "--batch_size=2",
        "--patch_size=32",
        "--steps_per_epoch=2",
        "--export=false",
    ]


@pytest.mark.slow
def test_all_stages_train_only_their_parts(monkeypatch, tmp_path, common_flags, capsys):
    import hdr_keras

    model_dir = tmp_path / "run"
    _run(monkeypatch, *common_flags, "--steps=4", f"--model_dir={model_dir}")
    out = capsys.readouterr().out
    assert "stage 'attention': 1 steps" in out
    assert "stage 'merge': 3 steps" in out
    first = tf.train.latest_checkpoint(str(model_dir / "checkpoints" / "attention"))
    second = tf.train.latest_checkpoint(str(model_dir / "checkpoints" / "merge"))
    assert first.endswith("ckpt-1") and second.endswith("ckpt-3")

    # The final model = stage 2's result; rebuild stage 1's state from its checkpoint.
    final = hdr_keras.load_model(model_dir)
    after_first = hdr_keras.build_model("ahdrnet")
    after_first.load_weights(model_dir / "stages" / "attention.weights.h5")
    # Neither stage trains the shared encoder conv: it equals stage 1's copy.
    for name, value in _layer_weights(final, ("conv1",)).items():
        np.testing.assert_array_equal(
            value, _layer_weights(after_first, ("conv1",))[name]
        )
    # Stage 2 (merge) left the attention weights as stage 1 made them...
    for name, value in _layer_weights(final, ("attention",)).items():
        np.testing.assert_array_equal(
            value, _layer_weights(after_first, ("attention",))[name]
        )
    # ...and changed the merging network, which stage 1 did not train.
    changed = [
        not np.array_equal(value, _layer_weights(after_first, ("drdb",))[name])
        for name, value in _layer_weights(final, ("drdb",)).items()
    ]
    assert any(changed)


@pytest.mark.slow
def test_single_stage_starts_from_the_earlier_stage(
    monkeypatch, tmp_path, common_flags, capsys
):
    first_dir = tmp_path / "first"
    _run(
        monkeypatch,
        *common_flags,
        "--stage=attention",
        "--steps=1",
        f"--model_dir={first_dir}",
    )
    assert not (first_dir / "checkpoints" / "merge").exists()
    second_dir = tmp_path / "second"
    shutil.copytree(first_dir / "stages", second_dir / "stages")
    capsys.readouterr()
    _run(
        monkeypatch,
        *common_flags,
        "--stage=merge",
        "--steps=1",
        f"--model_dir={second_dir}",
    )
    out = capsys.readouterr().out
    assert "stage 'merge' starts from stage 'attention'" in out


def test_unknown_stage_is_named(monkeypatch, tmp_path, common_flags):
    with pytest.raises(
        training_main.UserError, match="--stage=bogus.*attention, merge"
    ):
        _run(monkeypatch, *common_flags, "--stage=bogus", f"--model_dir={tmp_path}")


def test_stage_flag_refused_for_single_stage_methods(tmp_path, common_flags):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["training.main", "--method=ahdrnet", *common_flags, "--stage=x"])
    try:
        with pytest.raises(training_main.UserError, match="single stage"):
            training_main.run()
    finally:
        flags.FLAGS.unparse_flags()
