"""TFRecords: schema round trip, sources, the make CLI, readers, corrupt shards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.io import write_image
from hdr_keras.synthetic.scenes import generate_scene
from tfrecords import builtin, reader
from tfrecords.errors import CorruptShardError
from tfrecords.schema import encode_hdr_example, parse_hdr_example
from tfrecords.shards import (
    check_framing,
    find_corrupt_shard,
    list_shards,
    write_sharded,
)
from tfrecords.sources.synthetic import synthetic_hdr_records


@pytest.fixture(scope="module")
def synthetic_shards(tmp_path_factory):
    out = tmp_path_factory.mktemp("shards")
    paths = write_sharded(synthetic_hdr_records(5, 40, 56), out, "train", 2, total=5)
    return out, paths


def test_round_trip_is_exact(synthetic_shards):
    out, paths = synthetic_shards
    assert [p.name for p in paths] == [
        "train-00000-of-00002.tfrecord",
        "train-00001-of-00002.tfrecord",
    ]
    examples = {
        e["name"].numpy().decode(): e["hdr"].numpy()
        for e in reader.hdr_records(str(out / "train-*.tfrecord"))
    }
    assert sorted(examples) == [f"synthetic-{i:06d}" for i in range(5)]
    for seed in range(5):
        np.testing.assert_array_equal(
            examples[f"synthetic-{seed:06d}"], generate_scene(seed, 40, 56)
        )


def test_encode_rejects_bad_images():
    with pytest.raises(ValueError, match="bad.hdr: HDR image contains NaN"):
        encode_hdr_example(np.full((4, 4, 3), np.nan, "float32"), "bad.hdr")
    with pytest.raises(ValueError, match=r"must be \[H, W, 3\]"):
        encode_hdr_example(np.zeros((4, 4), "float32"), "gray")


def test_payload_size_mismatch_names_the_shard():
    record = encode_hdr_example(np.ones((4, 4, 3), "float32"), "x")
    example = tf.train.Example.FromString(record)
    example.features.feature["height"].int64_list.value[0] = 5
    with pytest.raises(tf.errors.InvalidArgumentError, match="shard-7.tfrecord"):
        parse_hdr_example(example.SerializeToString(), "shard-7.tfrecord")


def test_truncated_shard_raises_naming_it(tmp_path, synthetic_shards):
    _, paths = synthetic_shards
    broken = tmp_path / "train-00000-of-00001.tfrecord"
    data = paths[0].read_bytes()
    broken.write_bytes(data[: len(data) - 1000])
    with pytest.raises(
        CorruptShardError, match="train-00000-of-00001.tfrecord.*truncated"
    ):
        check_framing(broken)
    with pytest.raises(CorruptShardError, match=str(broken)):
        reader.hdr_records(str(tmp_path))


def test_flipped_payload_byte_is_found_and_named(tmp_path, synthetic_shards):
    _, paths = synthetic_shards
    broken = tmp_path / "bad.tfrecord"
    data = bytearray(paths[1].read_bytes())
    data[12 + 500] ^= 0xFF  # inside the first record's payload
    broken.write_bytes(bytes(data))
    assert check_framing(broken) == 2  # framing intact: only the CRC can tell
    problems = list(find_corrupt_shard([str(paths[0]), str(broken)]))
    assert len(problems) == 1 and str(broken) in str(problems[0])


def test_list_shards_errors_name_the_pattern(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        list_shards(str(tmp_path / "nothing-here-*.tfrecord"))


def test_training_dataset_shapes_ranges_and_determinism(synthetic_shards):
    out, _ = synthetic_shards

    def first_batches(seed):
        dataset = reader.single_image_training_dataset(
            str(out), batch_size=3, patch_size=24, seed=seed
        )
        return [(ldr.numpy(), hdr.numpy()) for ldr, hdr in dataset.take(4)]

    batches = first_batches(seed=3)
    for ldr, hdr in batches:
        assert ldr.shape == hdr.shape == (3, 24, 24, 3)
        assert ldr.min() >= 0.0 and ldr.max() <= 1.0
        np.testing.assert_allclose(ldr * 255, np.round(ldr * 255), atol=1e-3)  # 8-bit
        assert np.all(hdr >= 0) and np.isfinite(hdr).all()
    again = first_batches(seed=3)
    for (a, _), (b, _) in zip(batches, again):
        np.testing.assert_array_equal(a, b)
    other = first_batches(seed=4)
    assert not np.array_equal(batches[0][0], other[0][0])
    # 12 patches from 5 scenes: every epoch draws new crops and cameras, so no two
    # patches are identical even when they come from the same scene.
    patches = np.concatenate([ldr for ldr, _ in batches]).reshape(12, -1)
    assert len({p.tobytes() for p in patches}) == 12


def test_eval_dataset_is_deterministic_full_size(synthetic_shards):
    out, _ = synthetic_shards
    first = list(reader.single_image_eval_dataset(str(out), seed=5))
    second = list(reader.single_image_eval_dataset(str(out), seed=5))
    assert len(first) == 5
    for (l1, h1, n1), (l2, h2, n2) in zip(first, second):
        assert l1.shape == (1, 40, 56, 3) and n1 == n2
        np.testing.assert_array_equal(l1, l2)
        np.testing.assert_array_equal(h1, h2)


@pytest.mark.slow
def test_make_cli_synthetic_and_hdr_folder(tmp_path, run_make):
    result = run_make(
        "--source=synthetic",
        "--num_scenes=3",
        "--size=32",
        f"--out={tmp_path / 's'}",
        "--num_shards=2",
    )
    assert result.returncode == 0, result.stderr
    assert "synthetic" in result.stderr and "3/3" in result.stderr  # tqdm progress bar
    assert len(list((tmp_path / "s").glob("train-*-of-00002.tfrecord"))) == 2

    folder = tmp_path / "hdrs"
    images = {
        "a.hdr": np.exp(np.random.default_rng(0).normal(size=(20, 30, 3))).astype(
            "float32"
        ),
        "sub/b.exr": np.exp(np.random.default_rng(1).normal(size=(24, 16, 3))).astype(
            "float32"
        ),
    }
    for name, image in images.items():
        write_image(folder / name, image)
    result = run_make(
        "--source=hdr_folder",
        f"--input={folder}",
        f"--out={tmp_path / 'h'}",
        "--num_shards=1",
        "--prefix=eval",
    )
    assert result.returncode == 0, result.stderr
    read = {
        e["name"].numpy().decode(): e["hdr"].numpy()
        for e in reader.hdr_records(str(tmp_path / "h"))
    }
    assert sorted(read) == ["a.hdr", "b.exr"]
    np.testing.assert_allclose(read["b.exr"], images["sub/b.exr"], rtol=1e-6)
    # RGBE keeps 8 mantissa bits relative to each pixel's brightest channel.
    error = np.abs(read["a.hdr"] - images["a.hdr"])
    assert np.all(error <= 0.01 * images["a.hdr"].max(-1, keepdims=True))

    result = run_make(
        "--source=hdr_folder",
        f"--input={tmp_path / 'missing'}",
        f"--out={tmp_path / 'x'}",
    )
    assert result.returncode != 0 and "missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_builtin_set_is_written_once(tmp_path):
    spec = builtin.BuiltinSingleImageSet(
        num_train=2, num_eval=1, train_size=32, eval_size=32, num_shards=1
    )
    train, evaluation = builtin.builtin_single_image_data(spec, root=tmp_path)
    shard = Path(list_shards(train)[0])
    stamp = shard.stat().st_mtime_ns
    assert builtin.builtin_single_image_data(spec, root=tmp_path) == (train, evaluation)
    assert shard.stat().st_mtime_ns == stamp
    assert len(list(reader.hdr_records(evaluation))) == 1
    assert not [
        p for p in tmp_path.iterdir() if p.name.startswith(".")
    ]  # no staging left


def test_make_requires_source_and_out(tmp_path, run_make):
    result = run_make(f"--out={tmp_path / 'x'}")
    assert result.returncode != 0 and "--source required" in result.stderr
    assert "Traceback" not in result.stderr
