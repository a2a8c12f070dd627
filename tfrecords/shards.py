"""Shard naming, atomic sharded writing with a progress bar, and shard checks.

What a kill (even SIGKILL) of `write_sharded` can leave, and why readers never see
a partial shard or a partial set:
- while records are written: only hidden temporary files `.<shard>.tmp-<pid>`,
  which `list_shards` ignores (hidden names; no `.tfrecord` suffix either);
- while the finished shards are renamed: the set's old shards are deleted first,
  so a set cut short has missing members, and `list_shards` refuses an incomplete
  `<prefix>-i-of-N` set naming the missing shard.
The next run of the same command writes the whole set again (and deletes the
temporary files that killed writers left).
"""

from __future__ import annotations

import os
import re
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
    _remove_abandoned(paths)
    temporary = [path.with_name(f".{path.name}.tmp-{os.getpid()}") for path in paths]
    writers = [tf.io.TFRecordWriter(str(path)) for path in temporary]
    try:
        with tqdm(total=total, desc=description, unit="example") as progress:
            for index, record in enumerate(records):
                writers[index % num_shards].write(record)
                progress.update(1)
        for writer in writers:
            writer.close()
        for final in paths:  # a set cut short by a kill below is incomplete
            final.unlink(missing_ok=True)
        for tmp, final in zip(temporary, paths):
            os.replace(tmp, final)
    except BaseException:
        for writer in writers:
            writer.close()
        for tmp in temporary:
            tmp.unlink(missing_ok=True)
        raise
    return paths


def _remove_abandoned(paths: list[Path]) -> None:
    """Deletes the temporary files of `paths` left by writers that no longer run."""
    for path in paths:
        for tmp in path.parent.glob(f".{path.name}.tmp-*"):
            pid = tmp.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _running(int(pid)):
                tmp.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_SHARD_NAME = re.compile(
    r"^(?P<prefix>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})(?P<suffix>.*)$"
)


def _check_complete(files: list[str]) -> None:
    """Raises FileNotFoundError when a `<prefix>-i-of-N` shard's set lacks a member
    (a `write_sharded` killed while renaming: run the writer again)."""
    for path in files:
        directory, name = os.path.split(path)
        match = _SHARD_NAME.match(name)
        if match is None:
            continue
        count = int(match["count"])
        for index in range(count):
            sibling = f"{match['prefix']}-{index:05d}-of-{count:05d}{match['suffix']}"
            if not tf.io.gfile.exists(os.path.join(directory, sibling)):
                raise FileNotFoundError(
                    f"{path}: its shard set is incomplete ({sibling} is missing; was "
                    "the writer interrupted? write the set again)"
                )


def list_shards(pattern: str) -> list[str]:
    """Files matching a glob (or a directory: its *.tfrecord files), sorted.

    Hidden files (a writer's temporary `.<name>.tmp-<pid>`) are never listed.
    Raises FileNotFoundError naming the pattern when nothing matches, or naming the
    missing shard of an incomplete `<prefix>-i-of-N` set.
    """
    if tf.io.gfile.isdir(pattern):
        pattern = os.path.join(pattern, f"*{SHARD_SUFFIX}")
    files = sorted(
        path
        for path in tf.io.gfile.glob(pattern)
        if not os.path.basename(path).startswith(".")
    )
    if not files:
        raise FileNotFoundError(f"no TFRecord shards match {pattern!r}")
    _check_complete(files)
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
