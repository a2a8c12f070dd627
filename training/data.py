"""Training and evaluation data of a method, by its input kind.

Single-image methods read "hdr" examples and simulate the LDR input with the
virtual camera; stack methods read "stack" examples (LDR frames, exposures, target).
Without --data both use the cached built-in synthetic sets (`tfrecords.builtin`).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from hdr_keras.registry import SINGLE, MethodSpec
from tfrecords import builtin, reader


@dataclasses.dataclass
class MethodData:
    """Endless training batches, evaluation triples (inputs, hdr, name), their sources."""

    train: tf.data.Dataset
    evaluation: list
    train_pattern: str
    eval_pattern: str


def builtin_patterns(spec: MethodSpec) -> tuple[str, str]:
    """(train, eval) globs of the built-in set for the method's input kind."""
    if spec.input_kind == SINGLE:
        return builtin.builtin_single_image_data()
    return builtin.builtin_stack_data()


def load(
    spec: MethodSpec,
    data: str | None,
    eval_data: str | None,
    batch_size: int,
    patch_size: int,
    seed: int,
) -> MethodData:
    """Builds the datasets; built-in data fills whatever is not given."""
    train_pattern, eval_pattern = data, eval_data
    if train_pattern is None or eval_pattern is None:
        builtin_train, builtin_eval = builtin_patterns(spec)
        train_pattern = train_pattern or builtin_train
        eval_pattern = eval_pattern or builtin_eval
    if spec.input_kind == SINGLE:
        train = reader.single_image_training_dataset(
            train_pattern, batch_size, patch_size, seed=seed
        )
        evaluation = reader.single_image_eval_dataset(eval_pattern)
    else:
        train = reader.stack_training_dataset(
            train_pattern, batch_size, patch_size, seed=seed
        )
        evaluation = reader.stack_eval_dataset(eval_pattern)
    return MethodData(train, list(evaluation), train_pattern, eval_pattern)
