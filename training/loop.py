"""Data-parallel training steps for multi-replica strategies (a custom loop).

`training.main` trains with `keras.Model.fit` on one device. With more than one
replica (MirroredStrategy, MultiWorkerMirroredStrategy) it runs this loop instead,
because Keras 3.15's `fit` does not reproduce the single-device step there:

- under MultiWorkerMirroredStrategy (TF 2.21) `fit` fails outright: it reduces the
  first distributed batch with `strategy.reduce("MEAN", nested batch)` and the
  scalar logs with `strategy.reduce("MEAN", value, axis=0)`, and both raise in
  CollectiveAllReduce;
- under MirroredStrategy it runs, but logs the loss times the number of replicas
  and ends with weights about 1 % of an update away from the single-device run
  after 3 Adam steps (measured on AHDRNet, 2 logical CPUs).

The step here is the textbook one: each replica computes the method's loss (a mean
over its share of the global batch) and divides it by the number of replicas; the
optimizer sums the gradients over replicas (Keras' optimizer all-reduces in replica
context), which equals the gradient of the mean over the global batch. With equal
per-replica batches and no batch statistics this is the single-device step up to
float rounding (test_distributed.py checks losses and weights).

Callbacks are driven as `fit` drives them (progress bar, checkpoints, previews,
TensorBoard), with `logs={"loss": mean loss over the epoch}`.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def _step_function(train_model: keras.Model, strategy: tf.distribute.Strategy):
    optimizer = train_model.optimizer
    loss_fn = train_model.loss
    replicas = strategy.num_replicas_in_sync

    def replica_step(inputs, target):
        with tf.GradientTape() as tape:
            prediction = train_model(inputs, training=True)
            loss = loss_fn(target, prediction)
            if train_model.losses:
                loss += tf.add_n(train_model.losses)
            scaled = loss / replicas
            if hasattr(optimizer, "scale_loss"):  # LossScaleOptimizer (float16)
                scaled = optimizer.scale_loss(scaled)
        variables = train_model.trainable_variables
        gradients = tape.gradient(scaled, variables)
        optimizer.apply_gradients(zip(gradients, variables))
        return loss

    @tf.function
    def step(iterator):
        inputs, target = next(iterator)
        losses = strategy.run(replica_step, args=(inputs, target))
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, losses, axis=None)

    return step


def fit_replicated(
    train_model: keras.Model,
    dataset,
    strategy: tf.distribute.Strategy,
    initial_epoch: int,
    epochs: int,
    steps_per_epoch: int,
    callbacks: list[keras.callbacks.Callback],
    verbose: int = 1,
) -> dict[str, list[float]]:
    """Trains like `train_model.fit(...)` with the replicated step; returns history.

    `dataset`: a distributed dataset (`strategy.distribute_datasets_from_function`)
    of (inputs, target) batches; `train_model` compiled under `strategy.scope()`.
    """
    with strategy.scope():
        train_model.optimizer.build(train_model.trainable_variables)
    step = _step_function(train_model, strategy)
    callback_list = keras.callbacks.CallbackList(
        callbacks,
        add_history=False,
        add_progbar=verbose != 0,
        model=train_model,
        verbose=verbose,
        epochs=epochs,
        steps=steps_per_epoch,
    )
    history: dict[str, list[float]] = {"loss": []}
    logs: dict[str, float] = {}
    iterator = iter(dataset)
    train_model.stop_training = False
    callback_list.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch)
        total = 0.0
        for batch in range(steps_per_epoch):
            callback_list.on_train_batch_begin(batch)
            loss = float(step(iterator))
            total += loss
            callback_list.on_train_batch_end(batch, {"loss": total / (batch + 1)})
        logs = {"loss": total / steps_per_epoch}
        history["loss"].append(logs["loss"])
        callback_list.on_epoch_end(epoch, logs)
        if train_model.stop_training:
            break
    callback_list.on_train_end(logs)
    return history


def needs_replicated_loop(strategy: tf.distribute.Strategy) -> bool:
    """True when training must use `fit_replicated` instead of `Model.fit`."""
    return strategy.num_replicas_in_sync > 1 or isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy
    )
