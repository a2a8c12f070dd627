"""`training.main --init_from=<the authors' checkpoint>`: fine-tuning starts from
the published weights (issue 14 req. 4)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import hdr_keras
from tests.hdr_keras.authors.authors_helpers import reference_dir


@pytest.mark.slow
def test_training_init_from_the_authors_checkpoint(shared_data, tiny_stacks, tmp_path):
    from absl import flags

    from training import main as training_main

    checkpoint = reference_dir(shared_data, "ahdrnet") / "ahdr_model.pt"
    flags.FLAGS.unparse_flags()
    flags.FLAGS(
        [
            "training.main",
            "--method=ahdrnet",
            f"--init_from={checkpoint}",
            f"--data={tiny_stacks}/train-*.tfrecord",
            f"--eval_data={tiny_stacks}/eval-*.tfrecord",
            f"--model_dir={tmp_path / 'run'}",
            "--steps=1",
            "--batch_size=1",
            "--patch_size=32",
            # Adam moves each weight by about the learning rate per step, so after
            # one step at 1e-9 the weights are the authors' within 1e-9 << 1e-6.
            "--learning_rate=1e-9",
            "--export=false",
        ]
    )
    try:
        training_main.run()
    finally:
        flags.FLAGS.unparse_flags()
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["init_from"] == str(checkpoint)
    trained = hdr_keras.load_model(tmp_path / "run" / "final.keras")
    authors = hdr_keras.load_authors_weights("ahdrnet", checkpoint)
    for mine, theirs in zip(trained.get_weights(), authors.get_weights()):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)
