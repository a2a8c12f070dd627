"""Crash-safe training state: model + optimizer checkpoints every N steps.

Why a kill at any moment (even SIGKILL) leaves a usable checkpoint: TF 2.21's
`CheckpointManager.save` writes the variables into `ckpt-N_temp/part-*`, merges
them into `ckpt-N.data-*` and `ckpt-N.index`, and only then rewrites the
`checkpoint` state file that names the newest checkpoint, through
`file_io.atomic_write_string_to_file` (a temporary file renamed over it); older
checkpoints are deleted after that. A run killed mid-write leaves the state file
naming the previous, complete checkpoint; the torn files of ckpt-N are never read
and are overwritten when step N is saved again.

A run started again with the same --model_dir restores the newest checkpoint and
continues from its step (`optimizer.iterations`): the weights, Adam's moments and
the step, hence the learning-rate schedule (a function of the step) and the data
stream (element k is a function of (seed, k): `tfrecords.stream`).
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf
from absl import logging

from training import faults

MAX_TO_KEEP = 2


def manager_for(
    model: keras.Model, directory: Path, full: keras.Model | None = None
) -> tf.train.CheckpointManager:
    """A CheckpointManager over the compiled `model` and its optimizer.

    `full`: the inference model when `model` is a loss view of it; saved too, so
    a later stage (with another loss view) can start from these weights by
    restoring `tf.train.Checkpoint(full=...)`.
    """
    model.optimizer.build(model.trainable_variables)
    parts = {"model": model, "optimizer": model.optimizer}
    if full is not None:
        parts["full"] = full
    checkpoint = tf.train.Checkpoint(**parts)
    return tf.train.CheckpointManager(
        checkpoint, str(directory), max_to_keep=MAX_TO_KEEP
    )


def restore_latest(manager: tf.train.CheckpointManager) -> int:
    """Restores the newest checkpoint if there is one; returns the step (0 if none)."""
    path = manager.latest_checkpoint
    if path is None:
        return 0
    manager.checkpoint.restore(path).assert_existing_objects_matched()
    step = int(manager.checkpoint.optimizer.iterations.numpy())
    logging.info("Resuming from checkpoint %s at step %d", path, step)
    print(f"resuming from step {step} ({path})")
    return step


class PeriodicCheckpoint(keras.callbacks.Callback):
    """Saves the training state every `every` steps and when training ends."""

    def __init__(self, manager: tf.train.CheckpointManager, every: int):
        super().__init__()
        self.manager = manager
        self.every = max(1, int(every))

    def _save(self):
        step = int(self.model.optimizer.iterations.numpy())
        prefix = f"{self.manager.directory}/ckpt-{step}"
        if self.manager.latest_checkpoint == prefix:
            return
        if faults.armed("checkpoint", step):
            _torn_write(self.manager.checkpoint, prefix)
            faults.kill("checkpoint", step)
        self.manager.save(checkpoint_number=step)

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        if step % self.every == 0:
            self._save()
        if faults.armed("step", step):
            faults.kill("step", step)

    def on_train_end(self, logs=None):
        self._save()


def _torn_write(checkpoint: tf.train.Checkpoint, prefix: str) -> None:
    """Test hook (`training.faults`): the files a kill during the write of
    checkpoint `prefix` can leave: written but not yet named by the state file,
    the data file cut in half."""
    checkpoint.write(prefix)
    for data in tf.io.gfile.glob(f"{prefix}.data-*"):
        with open(data, "r+b") as handle:
            handle.truncate(max(1, tf.io.gfile.stat(data).length // 2))
