"""Training callbacks: preview images (PNG files and TensorBoard), learning rate,
and the epoch history."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from hdr_keras.io import write_image
from hdr_keras.tonemapping import tonemap
from training import faults

# Radiance shown as white in previews. Single-image targets: 4 stops above the LDR
# input's saturation point (radiance 1), so highlights stay visible and mid-tones
# are not crushed by a sun thousands of times brighter. Stack targets lie in [0, 1].
PREVIEW_PEAK = {"single": 16.0, "stack": 1.0}


class PreviewImages(keras.callbacks.Callback):
    """After each epoch, writes [input | prediction | reference] previews.

    Prediction and reference are tone-mapped with `hdr_keras.tonemapping.tonemap`
    (mu-law) on one scale, radiance `peak` mapping to white. PNGs go to
    `<model_dir>/previews/epoch_XXXX.png`, images to TensorBoard under `previews`.

    Args:
        inference_model: the model (inputs -> linear HDR), trained through shared layers.
        inputs: a fixed batch of model inputs (a tensor, or a dict for stack methods).
        display: the input as an image [B, H, W, 3] in [0, 1] (for stacks: the
            reference frame).
        hdr: the references [B, H, W, 3].
        preview_dir: folder for PNG files.
        log_dir: TensorBoard folder (a `previews` writer is made inside).
        peak: radiance shown as white (see PREVIEW_PEAK).
    """

    def __init__(
        self, inference_model, inputs, display, hdr, preview_dir, log_dir, peak
    ):
        super().__init__()
        self.peak = float(peak)
        self.inference_model = inference_model
        self.inputs = inputs
        self.display = tf.convert_to_tensor(display)
        self.hdr = tf.convert_to_tensor(hdr)
        self.preview_dir = Path(preview_dir)
        self.writer = tf.summary.create_file_writer(str(Path(log_dir) / "previews"))

    def on_epoch_end(self, epoch, logs=None):
        # Inference only (training=False, no random ops): previews leave no state
        # behind that a resumed run would miss.
        prediction = self.inference_model(self.inputs, training=False)
        rows = np.concatenate(
            [
                np.asarray(self.display, dtype=np.float32),
                tonemap(prediction, peak=self.peak),
                tonemap(self.hdr, peak=self.peak),
            ],
            axis=2,
        )
        with self.writer.as_default():
            tf.summary.image(
                "previews", rows, step=epoch + 1, max_outputs=rows.shape[0]
            )
        self.writer.flush()
        if faults.armed("preview", epoch + 1):
            faults.kill("preview", epoch + 1)
        grid = np.concatenate(list(rows), axis=0)
        write_image(self.preview_dir / f"epoch_{epoch + 1:04d}.png", grid)

    def catch_up(self, epoch: int) -> None:
        """Writes the previews of `epoch` (0-based) unless they exist: a run resumed
        at the end of that epoch, whose previews a kill interrupted (the weights
        are still that epoch's last)."""
        if not (self.preview_dir / f"epoch_{epoch + 1:04d}.png").exists():
            self.on_epoch_end(epoch)


class LearningRateLogger(keras.callbacks.Callback):
    """Adds the optimiser's current learning rate to the epoch logs (TensorBoard)."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            rate = (
                self.model.optimizer.learning_rate
            )  # evaluates a schedule at this step
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(rate))


class EpochHistory(keras.callbacks.Callback):
    """Hands each epoch's mean loss to `write(epoch, loss, steps)` as the epoch ends
    (`training.stages.record_epoch`), so a run killed later keeps it."""

    def __init__(self, write: Callable[[int, float, int], None]):
        super().__init__()
        self.write = write
        self.steps = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps = batch + 1

    def on_epoch_end(self, epoch, logs=None):
        self.write(epoch, float((logs or {})["loss"]), self.steps)
