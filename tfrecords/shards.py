"""Shard naming, atomic sharded writing with a progress bar, and shard checks."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Iterable, Iterator

import tensorflow as tf
from tqdm import tqdm

from tfrecords.errors import CorruptShardError
from tfrecords.schema import SHARD_SUFFIX


def shard_paths(out_dir: str | Path, prefix: str, num_shards: int) -> list[Path]:
    """`out_dir/prefix-00000-of-0000N.tfrecord`, ... (N = num_shards)."""
    if num_shards < 1:
        raise ValueError(f"--num_shards must be >= 1, got {num_shards}")
    out_dir = Path(out_dir)
    return [
        out_dir / f"{prefix}-{index:05d}-of-{num_shards:05d}{SHARD_SUFFIX}"
        for index in range(num_shards)
    ]


def write_sharded(
    records: Iterable[bytes],
    out_dir: str | Path,
    prefix: str,
    num_shards: int,
    total: int | None = None,
    description: str = "writing",
) -> list[Path]:
    """Writes serialised examples round-robin into shards, with a progress bar.

    Shards are written to temporary names and renamed only when every record is
    written, so an interrupted run never leaves a shard that looks complete.
    """
    paths = shard_paths(out_dir, prefix, num_shards)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    temporary = [path.with_name(f".{path.name}.tmp-{os.getpid()}") for path in paths]
    writers = [tf.io.TFRecordWriter(str(path)) for path in temporary]
    try:
        with tqdm(total=total, desc=description, unit="example") as progress:
            for index, record in enumerate(records):
                writers[index % num_shards].write(record)
                progress.update(1)
        for writer in writers:
            writer.close()
        for tmp, final in zip(temporary, paths):
            os.replace(tmp, final)
    except BaseException:
        for writer in writers:
            writer.close()
        for tmp in temporary:
            tmp.unlink(missing_ok=True)
        raise
    return paths


def list_shards(pattern: str) -> list[str]:
    """Files matching a glob (or a directory: its *.tfrecord files), sorted.

    Raises FileNotFoundError naming the pattern when nothing matches.
    """
    if tf.io.gfile.isdir(pattern):
        pattern = os.path.join(pattern, f"*{SHARD_SUFFIX}")
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no TFRecord shards match {pattern!r}")
    return files


def record_offsets(path: str | Path) -> list[tuple[int, int]]:
    """(offset of the record's header, payload length) of every record of a shard.

    Walks the record framing without reading payloads (one seek per record), so
    truncated and mis-framed files fail cheaply with a CorruptShardError naming the
    shard. Payload bit errors are caught by TF's CRC check when reading (see
    `find_corrupt_shard`).
    """
    path = str(path)
    size = os.path.getsize(path)
    records: list[tuple[int, int]] = []
    offset = 0
    with open(path, "rb") as handle:
        while offset < size:
            header = handle.read(12)
            if len(header) < 12:
                raise CorruptShardError(
                    f"{path}: truncated TFRecord shard (record {len(records)} header "
                    f"cut at byte {offset} of {size})"
                )
            (length,) = struct.unpack("<Q", header[:8])
            end = offset + 12 + length + 4
            if end > size:
                raise CorruptShardError(
                    f"{path}: truncated or corrupt TFRecord shard (record "
                    f"{len(records)} at byte {offset} declares {length} bytes, file "
                    f"has {size})"
                )
            records.append((offset, length))
            handle.seek(end)
            offset = end
    return records


def check_framing(path: str | Path) -> int:
    """Checks a shard's record framing (`record_offsets`); returns the record count."""
    return len(record_offsets(path))


def find_corrupt_shard(files: Iterable[str]) -> Iterator[CorruptShardError]:
    """Reads each shard fully (CRC-checked by TF); yields an error for each bad one."""
    for path in files:
        try:
            for _ in tf.data.TFRecordDataset(path):
                pass
        except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
            yield CorruptShardError(f"{path}: corrupt TFRecord shard: {error.message}")
