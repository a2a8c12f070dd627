"""Training and evaluation data of a method, by its input kind.

The method's spec says which (`MethodSpec.training_data`): single-image methods
read "hdr" examples and simulate the LDR input with the virtual camera, or
"camera" examples (recorded shots with every intermediate of SingleHDR's formation
model); stack methods read "stack" examples (LDR frames, exposures, target), whole
or as pre-aligned patches.
Without --data both use the cached built-in synthetic sets (`tfrecords.builtin`).
Under a distribution strategy the training data goes through
`distribute_datasets_from_function`: one pipeline per worker, each keeping its share
of the elements (`tfrecords.reader._shard`), batched per replica.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import tensorflow as tf

from hdr_keras.spec import ALIGNED_PATCHES, CAMERA_SHOTS, SINGLE, MethodSpec
from tfrecords import builtin, patches, reader


@dataclasses.dataclass
class MethodData:
    """Training batches by start step, evaluation triples (inputs, hdr, name)."""

    train: Callable[[int], tf.data.Dataset | tf.distribute.DistributedDataset]
    evaluation: list
    train_pattern: str
    eval_pattern: str


def trains_on_aligned_patches(spec: MethodSpec) -> bool:
    """Whether the method trains on pre-aligned patch records (its schedule's
    `training_data` is ALIGNED_PATCHES, e.g. Kalantari 2017: `tfrecords.patches`)."""
    return spec.training_data == ALIGNED_PATCHES


def trains_on_camera_shots(spec: MethodSpec) -> bool:
    """Whether the method trains on "camera" records (its schedule's
    `training_data` is CAMERA_SHOTS, e.g. SingleHDR): batches
    (ldr, {"hdr", "linear_clipped", "ldr_unquantized", "inverse_crf"})."""
    return spec.training_data == CAMERA_SHOTS


def single_image_evaluation(pattern: str) -> tf.data.Dataset:
    """(ldr, hdr, name) triples of a single-image evaluation set: "hdr" records
    through the virtual camera with fixed seeds (as for every single-image method),
    or the recorded shots of "camera" records."""
    if reader.pattern_kind(pattern) == "camera":
        return reader.camera_eval_dataset(pattern)
    return reader.single_image_eval_dataset(pattern)


def builtin_pretrain_pattern() -> str:
    """Train glob of the built-in pre-training set ("hdr" records of linearised LDR
    renderings, `tfrecords.builtin.builtin_ldr_rendering_data`), written on first use.
    """
    return builtin.builtin_ldr_rendering_data()


def builtin_patterns(spec: MethodSpec, train: bool = True) -> tuple[str, str]:
    """(train, eval) globs of the built-in set for the method's input kind.

    Aligned-patch methods train on the built-in stacks aligned and cut into patches
    (written on first use unless `train` is False) and evaluate on the raw stacks.
    """
    if trains_on_camera_shots(spec):
        return builtin.builtin_camera_data()
    if spec.input_kind == SINGLE:
        return builtin.builtin_single_image_data()
    if train and trains_on_aligned_patches(spec):
        return builtin.builtin_kalantari_patch_data()
    return builtin.builtin_stack_data()


def load(
    spec: MethodSpec,
    data: str | None,
    eval_data: str | None,
    batch_size: int,
    patch_size: int,
    seed: int,
    strategy: tf.distribute.Strategy | None = None,
) -> MethodData:
    """Builds the datasets; built-in data fills whatever is not given.

    `train(start_step, targets)` returns endless batches of the global `batch_size`
    (`targets(inputs, target)`, when given, maps each batch's target: a training
    stage's target). Element k of the stream (record and augmentation) is a pure
    function of (seed, k) (`tfrecords.stream`), and `train(s)` starts at element
    s * batch_size: a run resumed at step s sees exactly the batches an
    uninterrupted run sees from step s on.
    """
    train_pattern, eval_pattern = data, eval_data
    if train_pattern is None or eval_pattern is None:
        builtin_train, builtin_eval = builtin_patterns(spec, train_pattern is None)
        train_pattern = train_pattern or builtin_train
        eval_pattern = eval_pattern or builtin_eval
    train = training_stream(spec, train_pattern, batch_size, patch_size, seed, strategy)
    if spec.input_kind == SINGLE:
        evaluation = single_image_evaluation(eval_pattern)
    else:
        evaluation = reader.stack_eval_dataset(eval_pattern)

    return MethodData(train, list(evaluation), train_pattern, eval_pattern)


def training_stream(
    spec: MethodSpec,
    train_pattern: str,
    batch_size: int,
    patch_size: int,
    seed: int,
    strategy: tf.distribute.Strategy | None = None,
    camera=None,
    crop_fraction: tuple[float, float] | None = None,
) -> Callable:
    """`train(start_step, targets)` of `load` over `train_pattern`.

    `camera` (a `VirtualCameraConfig`) and `crop_fraction` set the virtual camera
    and crop of "hdr" records (a stage's own, `Stage.camera`); None: the defaults.
    """
    build = (
        reader.single_image_training_dataset
        if spec.input_kind == SINGLE
        else reader.stack_training_dataset
    )
    if spec.input_kind != SINGLE and trains_on_aligned_patches(spec):
        build = patches.patch_training_dataset
    if trains_on_camera_shots(spec):
        build = reader.camera_training_dataset
    options = {}
    if camera is not None:
        options["camera"] = camera
    if crop_fraction is not None:
        options["crop_fraction"] = tuple(crop_fraction)
    if options:
        if build is not reader.single_image_training_dataset:
            raise ValueError(
                f"method {spec.name!r}: a stage's camera and crop_fraction apply to "
                '"hdr" records only'
            )
        build = functools.partial(build, **options)
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    if batch_size % replicas:
        raise ValueError(
            f"--batch_size={batch_size} must be a multiple of the {replicas} replicas"
        )

    def train(start_step: int = 0, targets: Callable | None = None):
        start = start_step * batch_size

        def retarget(dataset: tf.data.Dataset) -> tf.data.Dataset:
            if targets is None:
                return dataset
            return dataset.map(
                lambda inputs, target: (inputs, targets(inputs, target)),
                num_parallel_calls=tf.data.AUTOTUNE,
            )

        if strategy is None or (
            replicas == 1
            and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        ):
            return retarget(
                build(train_pattern, batch_size, patch_size, seed=seed, start=start)
            )

        def per_pipeline(context: tf.distribute.InputContext):
            return retarget(
                build(
                    train_pattern,
                    context.get_per_replica_batch_size(batch_size),
                    patch_size,
                    seed=seed,
                    shard=(context.num_input_pipelines, context.input_pipeline_id),
                    start=start,
                )
            )

        return strategy.distribute_datasets_from_function(per_pipeline)

    return train
