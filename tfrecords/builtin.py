"""The built-in synthetic datasets: written to TFRecords on first use, then cached.

The cache folder is $HDR_KERAS_CACHE, or ~/.cache/hdr_keras. A dataset folder is
complete only once its marker file exists: it is built in a temporary folder and
renamed into place, so an interrupted build is simply redone.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

from absl import logging

from tfrecords.shards import write_sharded
from tfrecords.sources.synthetic import synthetic_hdr_records

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


def builtin_single_image_data(
    spec: BuiltinSingleImageSet = BuiltinSingleImageSet(), root: Path | None = None
) -> tuple[str, str]:
    """(train glob, eval glob) of the built-in set, writing it on first use."""
    folder = (root or cache_dir()) / spec.folder_name
    if not (folder / COMPLETE_MARKER).exists():
        logging.info(
            "Writing the built-in synthetic HDR dataset to %s (first use)", folder
        )
        staging = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            write_sharded(
                synthetic_hdr_records(spec.num_train, spec.train_size, spec.train_size),
                staging,
                "train",
                spec.num_shards,
                total=spec.num_train,
                description="synthetic train scenes",
            )
            write_sharded(
                synthetic_hdr_records(
                    spec.num_eval, spec.eval_size, spec.eval_size, EVAL_FIRST_SEED
                ),
                staging,
                "eval",
                1,
                total=spec.num_eval,
                description="synthetic eval scenes",
            )
            (staging / COMPLETE_MARKER).write_text("ok\n")
            if folder.exists():  # an incomplete folder left by an older crash
                shutil.rmtree(folder)
            os.replace(staging, folder)
        except FileExistsError:
            pass  # another process finished first; its copy is complete
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return str(folder / "train-*.tfrecord"), str(folder / "eval-*.tfrecord")
