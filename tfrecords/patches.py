"""Kalantari & Ramamoorthi's training patches: aligned once, cut, selected, augmented.

The paper (METHODS.md §1) trains on 40 x 40 patches taken with a stride of 20
pixels, 50 pixels away from the borders of the 1500 x 1000 images, keeping the
patches where more than half of the reference frame's values are above 0.8 or
below 0.2 (the regions where merging matters). The frames are aligned to the
reference with optical flow ONCE, when the records are written (`align_records`,
`flow_aligner`); every patch is then a small "stack" example of aligned frames,
exposures and target (tfrecords/schema.py), and training only augments them
(`patch_training_dataset`: one of 8 dihedral transforms x 6 channel orders).

Written by `python -m tfrecords.make --source=kalantari --align=flow --patches`
(or `--source=synthetic_stack`), and for the built-in set by
`tfrecords.builtin.builtin_kalantari_patch_data`.

Border on small images: the border is given in pixels of a 1000-pixel short side
and scaled with the image (`scaled_border`: 13 pixels on the built-in 256 x 256
stacks). Fallback: a stack in which no patch passes the selection rule still gives
its `fallback` patches with the largest fractions of such values (default 1), so
small or evenly exposed sets never end up without training data; the count of
these patches is reported (`PatchStats`).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Iterator

import numpy as np
import tensorflow as tf

from hdr_keras.ops.stack import default_reference
from tfrecords.augment import (
    fold_frames,
    random_crop,
    random_transform_stack,
    unfold_frames,
)
from tfrecords.reader import AUTOTUNE, _training_elements
from tfrecords.schema import encode_stack_example, parse_stack_example

PATCH_SIZE = 40
PATCH_STRIDE = 20
PATCH_BORDER = 50  # pixels, on the dataset's 1000-pixel short side
BORDER_REFERENCE_SIDE = 1000  # short side of Kalantari's 1500 x 1000 images
SELECT_LOW = 0.2  # reference values below this ...
SELECT_HIGH = 0.8  # ... or above this count as badly exposed
SELECT_FRACTION = 0.5  # keep patches with more than this fraction of them

# align(frames [N, H, W, 3], exposure biases [N], reference index) -> aligned frames
AlignFn = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


@dataclasses.dataclass
class PatchStats:
    """Counts of a patch-writing run (updated while the records are consumed)."""

    stacks: int = 0
    candidates: int = 0
    selected: int = 0
    fallback: int = 0

    def summary(self) -> str:
        return (
            f"{self.selected + self.fallback} patches from {self.stacks} stacks: "
            f"{self.selected} of {self.candidates} candidates passed the selection "
            f"rule, {self.fallback} kept by the fallback"
        )


def scaled_border(height: int, width: int, border: int = PATCH_BORDER) -> int:
    """`border` (pixels on a 1000-pixel short side) scaled to an image's short side."""
    return int(round(border * min(height, width) / BORDER_REFERENCE_SIDE))


def patch_origins(
    height: int,
    width: int,
    size: int = PATCH_SIZE,
    stride: int = PATCH_STRIDE,
    border: int = PATCH_BORDER,
) -> list[tuple[int, int]]:
    """(top, left) of every size x size patch on the stride grid inside the border."""
    tops = range(border, height - border - size + 1, stride)
    lefts = range(border, width - border - size + 1, stride)
    return [(top, left) for top in tops for left in lefts]


def extreme_fraction(reference_patch: np.ndarray) -> float:
    """Share of values of a reference patch above SELECT_HIGH or below SELECT_LOW."""
    patch = np.asarray(reference_patch)
    return float(np.mean((patch > SELECT_HIGH) | (patch < SELECT_LOW)))


def select_patches(
    reference: np.ndarray,
    origins: list[tuple[int, int]],
    size: int = PATCH_SIZE,
    min_fraction: float = SELECT_FRACTION,
    fallback: int = 1,
) -> tuple[list[tuple[int, int]], int]:
    """Origins of the patches kept by the selection rule, and how many by fallback.

    A patch is kept when more than `min_fraction` of its reference-frame values
    (all pixels and channels) are above 0.8 or below 0.2. When none is, the
    `fallback` patches with the largest such fraction are kept instead.
    """
    fractions = [
        extreme_fraction(reference[top : top + size, left : left + size])
        for top, left in origins
    ]
    chosen = [o for o, f in zip(origins, fractions) if f > min_fraction]
    if chosen or not origins or fallback <= 0:
        return chosen, 0
    order = np.argsort(fractions, kind="stable")[::-1][:fallback]
    return [origins[i] for i in sorted(order)], len(order)


def decode_stack(record: bytes) -> dict:
    """A serialised "stack" example -> numpy {"ldr", "exposure", "hdr", "name": str}."""
    example = parse_stack_example(tf.constant(record))
    return {
        "ldr": example["ldr"].numpy(),
        "exposure": example["exposure"].numpy(),
        "hdr": example["hdr"].numpy(),
        "name": example["name"].numpy().decode(),
    }


def flow_aligner() -> AlignFn:
    """Frames aligned to the reference by `hdr_keras.ops.alignment.align_stack`
    (the same alignment as the serving models' `FlowAlignment` layer)."""
    from hdr_keras.ops.alignment import align_stack

    @tf.function(reduce_retracing=True)
    def _align(ldr, exposure, reference):
        aligned, _ = align_stack(ldr, exposure, reference=reference)
        return aligned

    def align(frames: np.ndarray, biases: np.ndarray, reference: int) -> np.ndarray:
        aligned = _align(
            tf.constant(frames[None], tf.float32),
            tf.constant(np.asarray(biases, np.float32)[None]),
            int(reference),
        )
        return np.clip(aligned[0].numpy(), 0.0, 1.0)

    return align


def align_records(records: Iterable[bytes], align: AlignFn) -> Iterator[bytes]:
    """Re-encodes "stack" examples with their frames aligned to the middle frame
    (`hdr_keras.ops.stack.default_reference`)."""
    for record in records:
        stack = decode_stack(record)
        reference = default_reference(stack["ldr"].shape[0])
        ldr = align(stack["ldr"], stack["exposure"], reference)
        yield encode_stack_example(ldr, stack["exposure"], stack["hdr"], stack["name"])


def patch_records(
    records: Iterable[bytes],
    size: int = PATCH_SIZE,
    stride: int = PATCH_STRIDE,
    border: int | None = None,
    fallback: int = 1,
    stats: PatchStats | None = None,
) -> Iterator[bytes]:
    """Selected size x size patches of every "stack" example, as "stack" examples.

    Args:
        records: serialised stacks (aligned: patches are taken as they are).
        size, stride: patch size and grid step (40, 20).
        border: pixels skipped at every image border; None: `scaled_border`, 50
            pixels on a 1000-pixel short side.
        fallback: patches kept from a stack where none passes the rule.
        stats: counts, updated as the records are consumed.
    Each patch is named "<stack name>/y<top>x<left>".
    """
    stats = stats if stats is not None else PatchStats()
    for record in records:
        stack = decode_stack(record)
        ldr, hdr = stack["ldr"], stack["hdr"]
        height, width = hdr.shape[:2]
        skip = scaled_border(height, width) if border is None else border
        origins = patch_origins(height, width, size, stride, skip)
        reference = ldr[default_reference(ldr.shape[0])]
        chosen, fell_back = select_patches(reference, origins, size, fallback=fallback)
        stats.stacks += 1
        stats.candidates += len(origins)
        stats.fallback += fell_back
        stats.selected += len(chosen) - fell_back
        for top, left in chosen:
            window = (slice(top, top + size), slice(left, left + size))
            yield encode_stack_example(
                ldr[(slice(None), *window)],
                stack["exposure"],
                hdr[window],
                f"{stack['name']}/y{top}x{left}",
            )


def patch_training_dataset(
    pattern: str,
    batch_size: int,
    patch_size: int = PATCH_SIZE,
    seed: int = 0,
    shard: tuple[int, int] = (1, 0),
    start: int = 0,
) -> tf.data.Dataset:
    """Endless batches of ({"ldr": [B, N, P, P, 3], "exposure": [B, N]}, hdr [B, P, P, 3])
    from aligned patch records (`patch_records`), Kalantari's augmentation applied.

    Every element is a random P x P crop (the whole patch when the records are
    P x P already) and one of the 48 transforms of
    `tfrecords.augment.random_transform_stack` (8 dihedral x 6 channel orders, the
    same on all frames and the target), seeded per element: the same seed gives
    the same stream; every pass reads the patches in a new random order. `shard`
    and `start` as in `tfrecords.reader.single_image_training_dataset`.
    Records smaller than P fail with an error naming the example.
    """

    def augment(example, element_seed):
        crop_seed, transform_seed = tf.unstack(
            tf.random.experimental.stateless_split(element_seed, 2)
        )
        shape = tf.shape(example["hdr"])
        check = tf.debugging.Assert(
            tf.reduce_all(shape[:2] >= patch_size),
            [
                f"patch smaller than patch_size={patch_size}: example",
                example["name"],
                "has size",
                shape[:2],
            ],
        )
        frames = example["ldr"]
        with tf.control_dependencies([check]):
            both = tf.concat([fold_frames(frames), example["hdr"]], axis=-1)
        both = random_crop(both, crop_seed, patch_size)
        ldr = unfold_frames(both[..., :-3], 3)
        ldr, hdr = random_transform_stack(ldr, both[..., -3:], transform_seed)
        ldr.set_shape([frames.shape[0], patch_size, patch_size, 3])
        hdr.set_shape([patch_size, patch_size, 3])
        return {"ldr": ldr, "exposure": example["exposure"]}, hdr

    dataset = _training_elements(pattern, parse_stack_example, seed, start, shard)
    dataset = dataset.map(augment, num_parallel_calls=AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)
