"""tf.data readers: interleave shards, parse, augment, simulate the camera, batch.

Single-image methods train on HDR images only: the LDR input is made on the fly by
the virtual camera (`hdr_keras.ops.camera`), with a new crop, exposure, curve and
noise for every element of every epoch (stateless ops seeded per element).

Training streams are `tfrecords.stream.element_stream`s: element k (its record and
its augmentation) is a pure function of (seed, k), so a run resumed at step s starts
at element s * batch and sees exactly what an uninterrupted run sees.
"""

from __future__ import annotations

import tensorflow as tf

from hdr_keras.ops.camera import VirtualCameraConfig, virtual_camera
from tfrecords.augment import (
    random_crop,
    random_crop_flip_stack,
    random_crop_resize,
    random_flip_rotate,
)
from tfrecords.schema import (
    example_kind,
    parse_camera_example,
    parse_hdr_example,
    parse_stack_example,
)
from tfrecords.shards import check_framing, list_shards
from tfrecords.stream import element_seed, element_stream

AUTOTUNE = tf.data.AUTOTUNE


def _records(pattern: str, parse, shuffle_files: bool, seed: int) -> tf.data.Dataset:
    """Interleaved records of the shards matching `pattern`, parsed by `parse`.

    Every shard's framing is checked first, so a truncated shard fails here with a
    CorruptShardError naming it rather than mid-training; `parse(record, shard)`
    names the shard in its own errors.
    """
    files = list_shards(pattern)
    for path in files:
        check_framing(path)
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_files:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    return dataset.interleave(
        lambda path: tf.data.TFRecordDataset(path).map(
            lambda record: parse(record, path)
        ),
        cycle_length=min(len(files), 8),
        num_parallel_calls=AUTOTUNE,
        deterministic=True,
    )


def hdr_records(
    pattern: str, shuffle_files: bool = False, seed: int = 0
) -> tf.data.Dataset:
    """Parsed "hdr" examples {"hdr", "name"} from the shards matching `pattern`."""
    return _records(pattern, parse_hdr_example, shuffle_files, seed)


def _training_elements(
    pattern: str, parse, seed: int, start: int, shard: tuple[int, int]
) -> tf.data.Dataset:
    """(parsed example, [2] augmentation seed) of elements `start`, `start` + 1, ...
    (`tfrecords.stream.element_stream`; `shard` = (count, index) keeps the elements
    k with k % count == index, for one of `count` input pipelines: with per-pipeline
    batches of B / count, the union of the pipelines' j-th batches is exactly the
    j-th global batch of a single-device run)."""

    def decode(k, record, path):
        return parse(record, path), element_seed(seed, k)

    elements = element_stream(pattern, seed, start, shard)
    return elements.map(decode, num_parallel_calls=AUTOTUNE, deterministic=True)


def single_image_training_dataset(
    pattern: str,
    batch_size: int,
    patch_size: int,
    seed: int = 0,
    camera: VirtualCameraConfig = VirtualCameraConfig(),
    crop_fraction: tuple[float, float] = (0.2, 0.6),
    shard: tuple[int, int] = (1, 0),
    start: int = 0,
) -> tf.data.Dataset:
    """Endless batches of (ldr [B, P, P, 3] in [0, 1], hdr [B, P, P, 3] linear target).

    Args:
        pattern: TFRecord glob (or folder) of "hdr" examples.
        batch_size, patch_size: batch and square patch size P.
        seed: base seed; the same seed gives the same stream.
        camera: virtual camera ranges (exposure percentile, curve, noise, JPEG).
        crop_fraction: side of the random crop as a fraction of the shorter side.
        shard: (count, index): this pipeline's share of the elements, for one of
            `count` input pipelines of a distributed run (see `_training_elements`).
        start: first element (a resumed run: step * global batch).
    """

    def simulate(example, element_seed):
        crop_seed, flip_seed, camera_seed = tf.unstack(
            tf.random.experimental.stateless_split(element_seed, 3)
        )
        patch = random_crop_resize(example["hdr"], crop_seed, patch_size, crop_fraction)
        patch = random_flip_rotate(patch, flip_seed)
        shot = virtual_camera(patch, camera_seed, camera)
        return shot["ldr"], shot["hdr"]

    dataset = _training_elements(pattern, parse_hdr_example, seed, start, shard)
    dataset = dataset.map(simulate, num_parallel_calls=AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def single_image_eval_dataset(
    pattern: str,
    seed: int = 1234,
    camera: VirtualCameraConfig = VirtualCameraConfig(),
) -> tf.data.Dataset:
    """Deterministic (ldr, hdr, name) triples, one per image, full size, batch 1.

    Each image gets a fixed camera (seeded by its position), so every model and
    baseline is evaluated on exactly the same inputs.
    """

    def simulate(index, example):
        shot = virtual_camera(
            example["hdr"], tf.stack([tf.cast(seed, tf.int64), index]), camera
        )
        return shot["ldr"][None], shot["hdr"][None], example["name"]

    return hdr_records(pattern).enumerate().map(simulate)


# ------------------------------------------------------------------ stack methods
def stack_records(
    pattern: str, shuffle_files: bool = False, seed: int = 0
) -> tf.data.Dataset:
    """Parsed "stack" examples {"ldr" [N, H, W, 3], "exposure" [N], "hdr", "name"}.

    As `hdr_records`: every shard's framing is checked first (CorruptShardError
    naming the shard), records of another kind fail naming their shard.
    """
    return _records(pattern, parse_stack_example, shuffle_files, seed)


def stack_training_dataset(
    pattern: str,
    batch_size: int,
    patch_size: int = 256,
    seed: int = 0,
    shard: tuple[int, int] = (1, 0),
    start: int = 0,
) -> tf.data.Dataset:
    """Endless batches of ({"ldr": [B, N, P, P, 3], "exposure": [B, N]}, hdr [B, P, P, 3]).

    Every element is a random P x P crop of a stack followed by one of the 8
    dihedral transforms, the same for all frames and the target (they are folded
    into one tensor's channels, `tfrecords.augment.random_crop_flip_stack`), with a
    stateless seed per element: the same seed gives the same stream. Stacks are read
    in a new random order every pass, one at a time (no shuffle buffer). Stacks
    must be at least P x P; all stacks of a pattern must have the same N to be
    batched. `shard` and `start` as in `single_image_training_dataset`.
    """

    def crop(example, element_seed):
        shape = tf.shape(example["hdr"])
        check = tf.debugging.Assert(
            tf.reduce_all(shape[:2] >= patch_size),
            [
                f"stack smaller than patch_size={patch_size}: example",
                example["name"],
                "has size",
                shape[:2],
            ],
        )
        with tf.control_dependencies([check]):
            ldr, hdr = random_crop_flip_stack(
                example["ldr"], example["hdr"], element_seed, patch_size
            )
        return {"ldr": ldr, "exposure": example["exposure"]}, hdr

    dataset = _training_elements(pattern, parse_stack_example, seed, start, shard)
    dataset = dataset.map(crop, num_parallel_calls=AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def stack_eval_dataset(pattern: str) -> tf.data.Dataset:
    """Deterministic ({"ldr": [1, N, H, W, 3], "exposure": [1, N]}, hdr [1, H, W, 3],
    name) triples, one per stack, full size, in shard order."""

    def batch_of_one(example):
        inputs = {"ldr": example["ldr"][None], "exposure": example["exposure"][None]}
        return inputs, example["hdr"][None], example["name"]

    return stack_records(pattern).map(batch_of_one)


# ------------------------------------------------- camera shots (SingleHDR, "liu")
CAMERA_IMAGE_TARGETS = ("hdr", "linear_clipped", "ldr_unquantized")


def camera_records(
    pattern: str, shuffle_files: bool = False, seed: int = 0
) -> tf.data.Dataset:
    """Parsed "camera" examples (`tfrecords.schema.parse_camera_example`).

    As `hdr_records`: every shard's framing is checked first (CorruptShardError
    naming the shard), records of another kind fail naming their shard.
    """
    return _records(pattern, parse_camera_example, shuffle_files, seed)


def camera_training_dataset(
    pattern: str,
    batch_size: int,
    patch_size: int = 256,
    seed: int = 0,
    shard: tuple[int, int] = (1, 0),
    start: int = 0,
) -> tf.data.Dataset:
    """Endless batches of (ldr [B, P, P, 3], {"hdr", "linear_clipped",
    "ldr_unquantized": [B, P, P, 3], "inverse_crf": [B, 1024]}).

    Every element is a random P x P crop of one camera shot followed by one of the
    8 dihedral transforms, the same on the LDR and on the three target images (they
    are stacked along the channels), with a stateless seed per element: the same
    seed gives the same stream. The inverse curve is per shot and unchanged by
    crops and flips. Shots must be at least P x P. `shard` and `start` as in
    `single_image_training_dataset`.
    """
    keys = ("ldr", *CAMERA_IMAGE_TARGETS)

    def crop(example, element_seed):
        shape = tf.shape(example["ldr"])
        check = tf.debugging.Assert(
            tf.reduce_all(shape[:2] >= patch_size),
            [
                f"camera shot smaller than patch_size={patch_size}: example",
                example["name"],
                "has size",
                shape[:2],
            ],
        )
        crop_seed, flip_seed = tf.unstack(
            tf.random.experimental.stateless_split(element_seed, 2)
        )
        with tf.control_dependencies([check]):
            stacked = tf.concat([example[key] for key in keys], axis=-1)
        patch = random_flip_rotate(
            random_crop(stacked, crop_seed, patch_size), flip_seed
        )
        patch.set_shape([patch_size, patch_size, 3 * len(keys)])
        images = {key: patch[..., 3 * i : 3 * i + 3] for i, key in enumerate(keys)}
        targets = {key: images[key] for key in CAMERA_IMAGE_TARGETS}
        targets["inverse_crf"] = example["inverse_crf"]
        return images["ldr"], targets

    dataset = _training_elements(pattern, parse_camera_example, seed, start, shard)
    dataset = dataset.map(crop, num_parallel_calls=AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def camera_eval_dataset(pattern: str) -> tf.data.Dataset:
    """Deterministic (ldr [1, H, W, 3], hdr [1, H, W, 3], name) triples of "camera"
    examples, full size, in shard order: the same form as
    `single_image_eval_dataset`, with the recorded shot as the input."""
    return camera_records(pattern).map(
        lambda example: (example["ldr"][None], example["hdr"][None], example["name"])
    )


def pattern_kind(pattern: str) -> str:
    """The `kind` of the first record of the first shard matching `pattern`."""
    files = list_shards(pattern)
    for record in tf.data.TFRecordDataset(files[0]).take(1):
        return example_kind(record.numpy())
    raise ValueError(f"{files[0]}: empty TFRecord shard")
