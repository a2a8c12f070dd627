"""Crash-safe training state: model + optimizer checkpoints every N steps.

TF checkpoints are written in full before the `checkpoint` index file names them,
so a run killed at any moment (even SIGKILL) leaves the previous checkpoint intact.
A run started again with the same --model_dir restores the newest checkpoint and
continues from its step (`optimizer.iterations`); the learning-rate schedule
follows, since it is a function of that step.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf
from absl import logging

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
        if self.manager.latest_checkpoint != f"{self.manager.directory}/ckpt-{step}":
            self.manager.save(checkpoint_number=step)

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) % self.every == 0:
            self._save()

    def on_train_end(self, logs=None):
        self._save()
