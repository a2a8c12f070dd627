"""'camera' records (SingleHDR shots): round trip, reader, built-in set, make CLI,
and the training-data dispatch of method "liu"."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from absl.app import UsageError

import hdr_keras
from hdr_keras.io import write_image
from hdr_keras.ops.camera import quantize
from hdr_keras.ops.camera_singlehdr import SingleHDRCameraConfig, singlehdr_camera
from hdr_keras.ops.crf import EMOR_ENV, apply_curve, builtin_basis
from hdr_keras.spec import SINGLE, MethodSpec
from tfrecords import builtin, make, reader
from tfrecords.schema import decode_hdr_example, encode_camera_example
from tfrecords.shards import write_sharded
from tfrecords.sources.camera import camera_shot_records
from tfrecords.sources.synthetic import synthetic_hdr_records
from training import data

KEYS = ("ldr", "hdr", "linear_clipped", "ldr_unquantized", "crf", "inverse_crf")
# No noise and no JPEG: every intermediate is an exact function of the previous one.
CLEAN = SingleHDRCameraConfig(shot_noise_max=0.0, read_noise_max=0.0, jpeg=False)


@pytest.fixture(scope="module")
def camera_shards(tmp_path_factory):
    out = tmp_path_factory.mktemp("camera")
    shots = camera_shot_records(
        synthetic_hdr_records(3, 40, 48), builtin_basis(), seed=5
    )
    write_sharded(shots, out, "train", 2, total=3)
    clean = camera_shot_records(
        synthetic_hdr_records(2, 40, 48), builtin_basis(), seed=6, config=CLEAN
    )
    write_sharded(clean, out, "clean", 1, total=2)
    return out


def test_round_trip_is_exact(camera_shards):
    examples = {
        e["name"].numpy().decode(): e
        for e in reader.camera_records(str(camera_shards / "train-*.tfrecord"))
    }
    assert sorted(examples) == [f"synthetic-{i:06d}" for i in range(3)]
    for index, record in enumerate(synthetic_hdr_records(3, 40, 48)):
        name, hdr = decode_hdr_example(record)
        shot = singlehdr_camera(hdr, np.random.default_rng([5, index, 0]))
        for key in KEYS:
            np.testing.assert_array_equal(examples[name][key].numpy(), shot[key])
        assert examples[name]["exposure"].numpy() == np.float32(shot["exposure"])
        assert examples[name]["jpeg_quality"].numpy() == shot["jpeg_quality"]


def test_encode_rejects_bad_shots():
    shot = singlehdr_camera(np.ones((4, 4, 3), np.float32), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"bad: 'inverse_crf' must be 1024"):
        encode_camera_example({**shot, "inverse_crf": shot["inverse_crf"][:5]}, "bad")
    with pytest.raises(ValueError, match=r"bad: camera image 'hdr' has shape"):
        encode_camera_example({**shot, "hdr": shot["hdr"][:2]}, "bad")
    with pytest.raises(ValueError, match="'ldr' has NaN"):
        encode_camera_example({**shot, "ldr": shot["ldr"] * np.nan}, "bad")


def test_other_kinds_fail_naming_the_shard(tmp_path):
    write_sharded(synthetic_hdr_records(1, 8, 8), tmp_path, "hdr", 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="hdr-00000-of-00001"):
        next(iter(reader.camera_records(str(tmp_path / "hdr-*"))))
    assert reader.pattern_kind(str(tmp_path / "hdr-*")) == "hdr"


def test_training_batches_crop_and_flip_everything_alike(camera_shards):
    pattern = str(camera_shards / "clean-*.tfrecord")
    dataset = reader.camera_training_dataset(pattern, 4, 16, 3)
    ldr, targets = next(iter(dataset))
    assert ldr.shape == (4, 16, 16, 3)
    assert sorted(targets) == [
        "hdr",
        "inverse_crf",
        "ldr_unquantized",
        "linear_clipped",
    ]
    assert targets["inverse_crf"].shape == (4, 1024)
    for key in ("hdr", "linear_clipped", "ldr_unquantized"):
        assert targets[key].shape == (4, 16, 16, 3)
    # The same crop and dihedral transform on every image of a shot.
    np.testing.assert_array_equal(
        targets["linear_clipped"], np.clip(targets["hdr"], 0.0, 1.0)
    )
    np.testing.assert_array_equal(ldr, quantize(targets["ldr_unquantized"]))
    linear = apply_curve(targets["ldr_unquantized"], targets["inverse_crf"])
    assert np.median(np.abs(linear - targets["linear_clipped"])) < 1e-3
    # Deterministic for a seed, different for another.
    again, _ = next(iter(reader.camera_training_dataset(pattern, 4, 16, 3)))
    np.testing.assert_array_equal(again, ldr)
    other, _ = next(iter(reader.camera_training_dataset(pattern, 4, 16, 4)))
    assert not np.array_equal(other, ldr)


def test_liu_data_dispatch(camera_shards, tmp_path):
    spec = MethodSpec(
        name="liu",
        builder=lambda: None,
        input_kind=SINGLE,
        paper="",
        training=hdr_keras.get_method("liu").training,  # its "camera" data kind
    )
    assert data.trains_on_camera_shots(spec)
    method_data = data.load(
        spec,
        str(camera_shards / "train-*"),
        str(camera_shards / "clean-*"),
        batch_size=2,
        patch_size=16,
        seed=0,
    )
    ldr, targets = next(iter(method_data.train(0)))
    assert ldr.shape == (2, 16, 16, 3) and targets["hdr"].shape == (2, 16, 16, 3)
    # Evaluation: (ldr, hdr, name) like Eilertsen's, the recorded shots at full size.
    (ldr, hdr, name), _ = method_data.evaluation
    assert ldr.shape == hdr.shape == (1, 40, 48, 3)
    assert name.numpy().decode() == "synthetic-000000"
    # "hdr" records as evaluation data: the virtual camera, exactly as Eilertsen's.
    write_sharded(synthetic_hdr_records(1, 24, 24), tmp_path, "eval", 1)
    evaluation = list(data.single_image_evaluation(str(tmp_path / "eval-*")))
    expected = list(reader.single_image_eval_dataset(str(tmp_path / "eval-*")))
    np.testing.assert_array_equal(evaluation[0][0], expected[0][0])
    eilertsen = MethodSpec(name="eilertsen", builder=None, input_kind=SINGLE, paper="")
    assert not data.trains_on_camera_shots(eilertsen)


def test_builtin_camera_set_is_cached(tmp_path):
    spec = builtin.BuiltinCameraSet(
        num_train=2, num_eval=1, train_size=32, eval_size=24, num_shards=1
    )
    train, evaluation = builtin.builtin_camera_data(spec, root=tmp_path)
    folder = tmp_path / spec.folder_name
    assert (folder / builtin.COMPLETE_MARKER).exists()
    names = [e["name"].numpy() for e in reader.camera_records(train)]
    assert names == [b"synthetic-000000", b"synthetic-000001"]
    shots = list(reader.camera_records(evaluation))
    assert shots[0]["ldr"].shape == (24, 24, 3)
    assert shots[0]["name"].numpy() == b"synthetic-%06d" % builtin.EVAL_FIRST_SEED
    stamp = (folder / "train-00000-of-00001.tfrecord").stat().st_mtime_ns
    assert builtin.builtin_camera_data(spec, root=tmp_path) == (train, evaluation)
    assert (folder / "train-00000-of-00001.tfrecord").stat().st_mtime_ns == stamp


def test_make_cli_writes_camera_shots_from_an_hdr_folder(
    tmp_path, run_make, monkeypatch
):
    monkeypatch.delenv(EMOR_ENV, raising=False)
    images = tmp_path / "hdr"
    images.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.hdr", "b.exr"):
        write_image(images / name, rng.uniform(0, 50, (20, 24, 3)).astype("float32"))
    out = tmp_path / "out"
    result = run_make(
        "--source=hdr_folder",
        "--kind=camera",
        f"--input={images}",
        f"--out={out}",
        "--num_shards=1",
        "--shots_per_image=2",
    )
    assert result.returncode == 0, result.stderr
    assert "camera curves: builtin basis" in result.stdout
    shots = list(reader.camera_records(str(out / "train-*")))
    assert [s["name"].numpy() for s in shots] == [
        b"a.hdr#0",
        b"a.hdr#1",
        b"b.exr#0",
        b"b.exr#1",
    ]
    assert not np.array_equal(shots[0]["inverse_crf"], shots[1]["inverse_crf"])
    # Stack sources cannot make camera shots.
    with pytest.raises(UsageError, match="--kind=camera applies to --source=synth"):
        make._camera_shots("synthetic_stack", iter(()), 0)
