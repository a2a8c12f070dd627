"""The built-in synthetic datasets: written to TFRecords on first use, then cached.

- single-image methods: "hdr" examples of procedural scenes (`BuiltinSingleImageSet`);
- stack methods: "stack" examples of dynamic-scene exposure stacks (`BuiltinStackSet`).

The cache folder is $HDR_KERAS_CACHE, or ~/.cache/hdr_keras. A dataset folder is
complete only once its marker file exists: it is built in a temporary folder and
renamed into place, so an interrupted build is simply redone.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable

from absl import logging

from tfrecords.shards import write_sharded
from tfrecords.sources.synthetic import synthetic_hdr_records
from tfrecords.sources.synthetic_stack import synthetic_stack_records

COMPLETE_MARKER = "COMPLETE"
EVAL_FIRST_SEED = 1_000_000  # held-out scenes never overlap the training seeds


@dataclasses.dataclass(frozen=True)
class BuiltinSingleImageSet:
    """Size of the built-in single-image set (synthetic HDR scenes)."""

    num_train: int = 96
    num_eval: int = 8
    train_size: int = 384
    eval_size: int = 256
    num_shards: int = 4

    @property
    def folder_name(self) -> str:
        return (
            f"synthetic-hdr-v1-train{self.num_train}x{self.train_size}"
            f"-eval{self.num_eval}x{self.eval_size}"
        )


def cache_dir() -> Path:
    """Root of hdr-keras' dataset cache."""
    return Path(os.environ.get("HDR_KERAS_CACHE", Path.home() / ".cache" / "hdr_keras"))


@dataclasses.dataclass(frozen=True)
class BuiltinStackSet:
    """Size of the built-in stack set (synthetic dynamic-scene exposure stacks)."""

    num_train: int = 64
    num_eval: int = 8
    train_size: int = 256
    eval_size: int = 256
    num_frames: int = 3
    num_shards: int = 4

    @property
    def folder_name(self) -> str:
        return (
            f"synthetic-stack-v1-n{self.num_frames}"
            f"-train{self.num_train}x{self.train_size}"
            f"-eval{self.num_eval}x{self.eval_size}"
        )


@dataclasses.dataclass(frozen=True)
class _Split:
    """One split of a built-in set: its records, shard prefix and shard count."""

    prefix: str
    records: Callable[[], Iterable[bytes]]
    total: int
    num_shards: int
    description: str


def _cached(folder: Path, what: str, splits: list[_Split]) -> tuple[str, ...]:
    """Globs of `splits` in `folder`, writing them first unless the folder is complete.

    The splits are written to a staging folder that is renamed into place once its
    marker exists, so an interrupted build is redone and a concurrent one is safe.
    """
    if not (folder / COMPLETE_MARKER).exists():
        logging.info("Writing the built-in %s to %s (first use)", what, folder)
        staging = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            for split in splits:
                write_sharded(
                    split.records(),
                    staging,
                    split.prefix,
                    split.num_shards,
                    total=split.total,
                    description=split.description,
                )
            (staging / COMPLETE_MARKER).write_text("ok\n")
            if folder.exists():  # an incomplete folder left by an older crash
                shutil.rmtree(folder)
            os.replace(staging, folder)
        except OSError:
            # Renaming onto a non-empty folder fails with EEXIST or ENOTEMPTY: another
            # process finished first and its copy is complete. Anything else raises.
            if not (folder / COMPLETE_MARKER).exists():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return tuple(str(folder / f"{split.prefix}-*.tfrecord") for split in splits)


def builtin_single_image_data(
    spec: BuiltinSingleImageSet = BuiltinSingleImageSet(), root: Path | None = None
) -> tuple[str, str]:
    """(train glob, eval glob) of the built-in set, writing it on first use."""
    train, evaluation = _cached(
        (root or cache_dir()) / spec.folder_name,
        "synthetic HDR dataset",
        [
            _Split(
                "train",
                lambda: synthetic_hdr_records(
                    spec.num_train, spec.train_size, spec.train_size
                ),
                spec.num_train,
                spec.num_shards,
                "synthetic train scenes",
            ),
            _Split(
                "eval",
                lambda: synthetic_hdr_records(
                    spec.num_eval, spec.eval_size, spec.eval_size, EVAL_FIRST_SEED
                ),
                spec.num_eval,
                1,
                "synthetic eval scenes",
            ),
        ],
    )
    return train, evaluation


def builtin_stack_data(
    spec: BuiltinStackSet = BuiltinStackSet(), root: Path | None = None
) -> tuple[str, str]:
    """(train glob, eval glob) of the built-in stack set, writing it on first use."""
    train, evaluation = _cached(
        (root or cache_dir()) / spec.folder_name,
        "synthetic exposure-stack dataset",
        [
            _Split(
                "train",
                lambda: synthetic_stack_records(
                    spec.num_train,
                    spec.train_size,
                    spec.train_size,
                    0,
                    spec.num_frames,
                ),
                spec.num_train,
                spec.num_shards,
                "synthetic train stacks",
            ),
            _Split(
                "eval",
                lambda: synthetic_stack_records(
                    spec.num_eval,
                    spec.eval_size,
                    spec.eval_size,
                    EVAL_FIRST_SEED,
                    spec.num_frames,
                ),
                spec.num_eval,
                1,
                "synthetic eval stacks",
            ),
        ],
    )
    return train, evaluation
