"""Training element streams in which element k is a pure function of (seed, k).

A resumed training run must see exactly the examples and augmentations an
uninterrupted run would have seen after the same number of steps, without replaying
(or storing) the pipeline's past. So the training readers do not use shuffle
buffers or stateful random streams; element k of the stream is defined directly:

- pass p = k // N over the N records of the shards, position q = k % N;
- record r = a permutation of [0, N) seeded by (seed, p) evaluated at q
  (`tf.random.experimental.index_shuffle`: a uniform shuffle of every pass, each
  record once per pass);
- its augmentation seed = `element_seed(seed, k)` (stateless ops only).

The record is read at its byte offset (`shards.record_offsets`, found by the framing
check that runs anyway), so `element_stream(..., start=s)` starts at element s in
constant time, and nothing but the step needs checkpointing. Reads go through TF's
own random-access TFRecord reader (`_pywrap_record_io.RandomRecordReader`, the one
behind `tf.data`'s readers: it checks the CRCs and raises DataLossError, on which
the trainer names the corrupt shard). It is not public API: should a TF release
drop it, records are read with `os.pread` and a damaged payload shows as a parse
error instead.
"""

from __future__ import annotations

import dataclasses
import os
import threading

import numpy as np
import tensorflow as tf

from tfrecords.shards import list_shards, record_offsets

try:  # TF's CRC-checking random-access reader (see the module docstring)
    from tensorflow.python.lib.io._pywrap_record_io import RandomRecordReader
except ImportError:  # pragma: no cover - depends on the TF release
    RandomRecordReader = None

HEADER_BYTES = 12  # uint64 length + masked CRC of the length
STREAM_END = np.iinfo(np.int64).max
_SALT = 0x5DEECE66D  # separates the record-order seeds from the augmentation seeds


@dataclasses.dataclass
class RecordIndex:
    """Where every record of a set of shards is: shard, offset, payload length."""

    paths: list[str]
    shard: np.ndarray  # int64 [N]
    offset: np.ndarray  # int64 [N], first byte of the record's header
    length: np.ndarray  # int64 [N]

    def __post_init__(self):
        self._files: dict[int, int] = {}
        self._lock = threading.Lock()
        self._readers = threading.local()  # one TF reader per thread and shard

    def __len__(self) -> int:
        return len(self.offset)

    def read(self, record: int) -> bytes:
        """The serialised record number `record` (safe across threads)."""
        shard = int(self.shard[record])
        if RandomRecordReader is not None:
            readers = self._readers.__dict__.setdefault("by_shard", {})
            if shard not in readers:
                readers[shard] = RandomRecordReader(self.paths[shard])
            data, _ = readers[shard].read(int(self.offset[record]))
            return data
        with self._lock:
            if shard not in self._files:
                self._files[shard] = os.open(self.paths[shard], os.O_RDONLY)
            handle = self._files[shard]
        length = int(self.length[record])
        data = os.pread(handle, length, int(self.offset[record]) + HEADER_BYTES)
        if len(data) != length:
            raise OSError(
                f"{self.paths[shard]}: record {record} cut short ({len(data)} of "
                f"{length} bytes): was the shard changed while training?"
            )
        return data

    def __del__(self):
        for handle in getattr(self, "_files", {}).values():
            os.close(handle)


def record_index(pattern: str) -> RecordIndex:
    """The `RecordIndex` of the shards matching `pattern` (sorted), framing checked
    (a truncated shard raises CorruptShardError naming it)."""
    paths = list_shards(pattern)
    shard, offset, length = [], [], []
    for number, path in enumerate(paths):
        for start, size in record_offsets(path):
            shard.append(number)
            offset.append(start)
            length.append(size)
    if not offset:
        raise ValueError(f"no records in the TFRecord shards matching {pattern!r}")
    as_array = lambda values: np.asarray(values, np.int64)  # noqa: E731
    return RecordIndex(paths, as_array(shard), as_array(offset), as_array(length))


def element_seed(seed: int, k: tf.Tensor) -> tf.Tensor:
    """The [2] int64 stateless seed of element k's augmentation."""
    base = tf.constant([seed, _SALT], tf.int64)
    return tf.cast(tf.random.experimental.stateless_fold_in(base, k), tf.int64)


def record_of(seed: int, k: tf.Tensor, count: int) -> tf.Tensor:
    """The record (in [0, count)) that element k reads: pass k // count shuffled."""
    base = tf.constant([seed, _SALT + 1], tf.int64)  # not an augmentation seed
    key = tf.cast(tf.random.experimental.stateless_fold_in(base, k // count), tf.int64)
    return tf.random.experimental.index_shuffle(
        k % count, key, tf.constant(count - 1, tf.int64)
    )


def element_stream(
    pattern: str,
    seed: int,
    start: int = 0,
    shard: tuple[int, int] = (1, 0),
) -> tf.data.Dataset:
    """Endless (k, serialised record, shard path) from element `start` on.

    `shard` = (count, index): keep the elements k with k % count == index (one of
    `count` input pipelines of a distributed run); `start` must be a multiple of
    count, so that the pipelines' j-th elements together are the global ones.
    """
    count, index = shard
    if not 0 <= index < count:
        raise ValueError(f"shard index {index} outside [0, {count})")
    if start < 0 or start % count:
        raise ValueError(
            f"start element {start} is not a multiple of {count} pipelines"
        )
    records = record_index(pattern)
    paths = tf.constant(records.paths)
    shard_of = tf.constant(records.shard)
    total = len(records)

    def read(record):
        return np.bytes_(records.read(int(record)))

    def fetch(k):
        record = record_of(seed, k, total)
        data = tf.numpy_function(read, [record], tf.string, stateful=False)
        data.set_shape([])
        return k, data, tf.gather(paths, tf.gather(shard_of, record))

    elements = tf.data.Dataset.range(start + index, STREAM_END, count)
    return elements.map(fetch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
