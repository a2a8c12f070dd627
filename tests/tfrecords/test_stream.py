"""Training streams: element k is a function of (seed, k), so a stream started at
element s is the tail of the stream started at 0 (what a resumed run relies on)."""

from __future__ import annotations

import numpy as np
import pytest

from tfrecords import reader
from tfrecords.schema import parse_hdr_example
from tfrecords.shards import write_sharded
from tfrecords.sources.synthetic import synthetic_hdr_records
from tfrecords.stream import element_stream


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    write_sharded(synthetic_hdr_records(5, 24, 24), root, "train", 2)
    return str(root / "train-*.tfrecord")


def _names(dataset, count):
    return [
        parse_hdr_example(record, path)["name"].numpy().decode()
        for _, record, path in dataset.take(count)
    ]


def test_every_pass_reads_every_record_once_in_a_new_order(shards):
    names = _names(element_stream(shards, seed=3), 15)
    passes = [names[i : i + 5] for i in range(0, 15, 5)]
    for order in passes:
        assert sorted(order) == sorted(passes[0]) and len(set(order)) == 5
    assert len({tuple(order) for order in passes}) > 1  # reshuffled between passes


def test_a_stream_started_at_s_is_the_tail_of_the_whole_stream(shards):
    whole = _names(element_stream(shards, seed=3), 14)
    assert _names(element_stream(shards, seed=3, start=7), 7) == whole[7:]
    # Pipelines of a distributed run: element k goes to pipeline k % 2.
    for index in range(2):
        part = _names(element_stream(shards, 3, start=4, shard=(2, index)), 5)
        assert part == whole[4 + index :: 2]
    with pytest.raises(ValueError, match="not a multiple of 2"):
        element_stream(shards, 3, start=3, shard=(2, 0))


def test_resumed_batches_equal_the_uninterrupted_ones(shards):
    """Batches from step 3 on (start = 3 * batch) are those of a run from step 0:
    same records, same crops and camera, bit for bit."""

    def batches(start, count):
        dataset = reader.single_image_training_dataset(
            shards, batch_size=2, patch_size=8, seed=5, start=start
        )
        return [ldr.numpy() for ldr, _ in dataset.take(count)]

    whole = batches(0, 5)
    for got, want in zip(batches(3 * 2, 2), whole[3:]):
        np.testing.assert_array_equal(got, want)


def test_a_flipped_payload_byte_fails_the_crc_check(shards, tmp_path):
    import tensorflow as tf

    data = bytearray(open(shards.replace("*", "00000-of-00002"), "rb").read())
    data[12 + 100] ^= 0xFF  # inside the first record's payload
    (tmp_path / "bad-00000-of-00001.tfrecord").write_bytes(bytes(data))
    stream = element_stream(str(tmp_path / "bad-*.tfrecord"), seed=0)
    # TF's DataLossError, raised inside the reading py-function (hence wrapped).
    with pytest.raises(tf.errors.OpError, match="corrupted record"):
        for _ in stream.take(3):
            pass
