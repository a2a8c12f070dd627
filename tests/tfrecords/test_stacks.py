"""TFRecords of exposure stacks: schema, synthetic and Kalantari sources, make CLI,
stack readers (augmentation identical on every frame and the target), built-in set."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.io import read_image, write_image
from hdr_keras.synthetic.stacks import generate_stack
from tfrecords import builtin, reader
from tfrecords.schema import (
    encode_hdr_example,
    encode_stack_example,
    parse_hdr_example,
    parse_stack_example,
)
from tfrecords.shards import list_shards, write_sharded
from tfrecords.sources.kalantari import (
    find_kalantari_scenes,
    kalantari_records,
    make_aligner,
    read_scene,
)
from tfrecords.sources.synthetic_stack import synthetic_stack_records

TIFF_NAMES = ("262A0898.tif", "262A0899.tif", "262A0900.tif")


@pytest.fixture(scope="module")
def stack_shards(tmp_path_factory):
    out = tmp_path_factory.mktemp("stacks")
    write_sharded(synthetic_stack_records(3, 40, 48), out, "train", 2, total=3)
    return out


# ----------------------------------------------------------------------- schema
def test_synthetic_round_trip_is_exact(stack_shards):
    examples = {
        e["name"].numpy().decode(): e for e in reader.stack_records(str(stack_shards))
    }
    assert sorted(examples) == [f"synthetic-stack-{i:06d}" for i in range(3)]
    for seed in range(3):
        stack = generate_stack(seed, 40, 48)
        example = examples[f"synthetic-stack-{seed:06d}"]
        # uint16 storage is lossless for 8-bit frames: k / 255 == 257 k / 65535.
        np.testing.assert_array_equal(example["ldr"].numpy(), stack["ldr"])
        np.testing.assert_array_equal(example["exposure"].numpy(), stack["exposure"])
        np.testing.assert_array_equal(example["hdr"].numpy(), stack["hdr"])


def test_encode_rejects_bad_stacks():
    ldr, hdr = np.zeros((3, 4, 5, 3), "float32"), np.zeros((4, 5, 3), "float32")
    with pytest.raises(ValueError, match=r"s1: LDR stack must be \[N, H, W, 3\]"):
        encode_stack_example(ldr[0], [0, 2, 4], hdr, "s1")
    with pytest.raises(ValueError, match="s2: HDR target shape"):
        encode_stack_example(ldr, [0, 2, 4], hdr[:3], "s2")
    with pytest.raises(ValueError, match="s3: need 3 finite exposure biases"):
        encode_stack_example(ldr, [0, 2], hdr, "s3")
    with pytest.raises(
        ValueError, match=r"s4: LDR frames must be finite values in \[0, 1\]"
    ):
        encode_stack_example(ldr + 2, [0, 2, 4], hdr, "s4")
    with pytest.raises(ValueError, match="s5: HDR target contains NaN"):
        encode_stack_example(ldr, [0, 2, 4], hdr * np.nan, "s5")


def test_parse_errors_name_the_shard():
    record = encode_stack_example(
        np.zeros((3, 4, 4, 3), "float32"), [0, 2, 4], np.ones((4, 4, 3)), "x"
    )
    example = tf.train.Example.FromString(record)
    example.features.feature["num_frames"].int64_list.value[0] = 2
    with pytest.raises(tf.errors.InvalidArgumentError, match="shard-7.tfrecord"):
        parse_stack_example(example.SerializeToString(), "shard-7.tfrecord")
    single = encode_hdr_example(np.ones((4, 4, 3), "float32"), "y")
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="(?s)kind.*shard-8.tfrecord"
    ):
        parse_stack_example(single, "shard-8.tfrecord")
    # A stack also has an `hdr` feature: the single-image reader must refuse it.
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="(?s)kind.*shard-9.tfrecord"
    ):
        parse_hdr_example(record, "shard-9.tfrecord")


# -------------------------------------------------------------------- Kalantari
def _write_scene(folder: Path, seed: int, size=(24, 32), tiffs=TIFF_NAMES) -> dict:
    """A scene in Kalantari's layout: 16-bit TIFFs, exposure.txt, HDRImg.hdr."""
    stack = generate_stack(seed, *size, biases=[0, 2, 4])
    for name, frame in zip(tiffs, stack["ldr"]):
        write_image(folder / name, frame, bit_depth=16)
    (folder / "exposure.txt").write_text("0\n2\n4\n")
    write_image(folder / "HDRImg.hdr", stack["hdr"])
    return stack


@pytest.fixture
def kalantari_root(tmp_path):
    root = tmp_path / "SIGGRAPH17"
    _write_scene(root / "Training" / "001", seed=1)
    _write_scene(root / "Test" / "BarbequeDay", seed=2, size=(20, 28))
    return root


@pytest.mark.slow
def test_make_converts_kalantari_layout(kalantari_root, tmp_path, run_make):
    result = run_make(
        "--source=kalantari",
        f"--input={kalantari_root}",
        f"--out={tmp_path / 'k'}",
        "--num_shards=1",
    )
    assert result.returncode == 0, result.stderr
    assert "2/2" in result.stderr  # tqdm progress bar
    read = {
        e["name"].numpy().decode(): e for e in reader.stack_records(str(tmp_path / "k"))
    }
    assert sorted(read) == ["Test/BarbequeDay", "Training/001"]
    for name, example in read.items():
        folder = kalantari_root / name
        frames = np.stack([read_image(folder / n) for n in TIFF_NAMES])
        np.testing.assert_array_equal(example["ldr"].numpy(), frames)  # 16 bits exact
        np.testing.assert_array_equal(example["exposure"].numpy(), [0, 2, 4])
        np.testing.assert_array_equal(
            example["hdr"].numpy(), read_image(folder / "HDRImg.hdr")
        )

    broken = tmp_path / "broken"
    _write_scene(broken / "Training" / "002", seed=3, tiffs=TIFF_NAMES[:2])
    result = run_make(
        "--source=kalantari", f"--input={broken}", f"--out={tmp_path / 'x'}"
    )
    assert result.returncode == 1
    assert "error:" in result.stderr and "Training/002" in result.stderr
    assert "expected 3 TIFF frames, found 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_kalantari_single_scene_folder_and_errors(tmp_path):
    scene = tmp_path / "BarbequeDay"
    stack = _write_scene(scene, seed=4, size=(16, 20))
    (found,) = find_kalantari_scenes(scene)
    assert found.name == "BarbequeDay" and found.reference == 1
    decoded = read_scene(found)
    np.testing.assert_allclose(decoded["ldr"], stack["ldr"], atol=1e-6)
    assert len(list(kalantari_records([found]))) == 1

    two = tmp_path / "two" / "007"
    _write_scene(two, seed=5, size=(16, 20), tiffs=TIFF_NAMES[:2])
    with pytest.raises(ValueError, match=f"{two}: expected 3 TIFF frames, found 2"):
        find_kalantari_scenes(tmp_path / "two")

    (scene / "exposure.txt").unlink()
    with pytest.raises(FileNotFoundError, match=f"{scene}: no exposure.txt"):
        find_kalantari_scenes(scene)
    (scene / "exposure.txt").write_text("0\n2\n")
    with pytest.raises(ValueError, match=f"{scene}: exposure.txt lists 2 biases"):
        find_kalantari_scenes(scene)
    (scene / "exposure.txt").write_text("4\n2\n0\n")
    with pytest.raises(ValueError, match="not increasing"):
        find_kalantari_scenes(scene)
    (scene / "exposure.txt").write_text("-2\n0\n2\n")
    np.testing.assert_array_equal(find_kalantari_scenes(scene)[0].exposure, [0, 2, 4])

    write_image(scene / "preview.png", np.zeros((4, 4, 3)))
    with pytest.raises(
        ValueError, match=f"{scene}: unexpected image files preview.png"
    ):
        find_kalantari_scenes(scene)
    (scene / "preview.png").unlink()
    write_image(scene / TIFF_NAMES[1], np.zeros((10, 20, 3)), bit_depth=16)
    with pytest.raises(ValueError, match=f"{scene}: image sizes differ"):
        read_scene(find_kalantari_scenes(scene)[0])
    write_image(scene / TIFF_NAMES[1], np.zeros((16, 20, 3)), bit_depth=16)
    with pytest.raises(ValueError, match=f"{scene}: the TIFFs sorted by name"):
        read_scene(find_kalantari_scenes(scene)[0])  # a dark middle frame: wrong order
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no Kalantari scene folders"):
        find_kalantari_scenes(tmp_path / "empty")


def test_kalantari_alignment_hook(tmp_path):
    scene = tmp_path / "001"
    _write_scene(scene, seed=6, size=(96, 128))
    (found,) = find_kalantari_scenes(scene)
    raw = read_scene(found)["ldr"]
    calls = []

    def invert(frames, biases, reference):
        calls.append((frames.shape, biases.tolist(), reference))
        return 1.0 - frames

    (record,) = kalantari_records([found], invert)
    assert calls == [((3, 96, 128, 3), [0, 2, 4], 1)]
    np.testing.assert_allclose(parse_stack_example(record)["ldr"], 1 - raw, atol=1e-6)

    assert make_aligner("none") is None
    with pytest.raises(ValueError, match="align must be one of"):
        make_aligner("flow")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # too few matches: identity
        (record,) = kalantari_records([found], make_aligner("homography"))
    aligned = parse_stack_example(record)["ldr"].numpy()
    assert aligned.shape == raw.shape and aligned.min() >= 0 and aligned.max() <= 1
    np.testing.assert_array_equal(aligned[1], raw[1])  # the reference is untouched


# ---------------------------------------------------------------------- readers
def _dihedral(image: np.ndarray) -> list[np.ndarray]:
    """The 8 transforms of random_flip_rotate: optional left-right flip, then k turns."""
    return [
        np.rot90(flipped, k) for flipped in (image, image[:, ::-1]) for k in range(4)
    ]


def _locate(patch: np.ndarray, image: np.ndarray) -> int | None:
    """Index of the dihedral transform of `image` that contains `patch` as a crop."""
    size = patch.shape[0]
    for index, transformed in enumerate(_dihedral(image)):
        height, width = transformed.shape[:2]
        for y in range(height - size + 1):
            for x in range(width - size + 1):
                if np.array_equal(transformed[y : y + size, x : x + size], patch):
                    return index
    return None


def test_training_augmentation_is_identical_on_frames_and_target(tmp_path):
    # Frames and target are one image times constants, exactly representable after
    # the uint16 round trip: the relation survives only if every frame and the target
    # get the same crop and the same flip/rotation.
    rng = np.random.default_rng(0)
    gains = np.array([1.0, 2.0, 4.0], "float32")
    targets, records = [], []
    for index, (height, width) in enumerate([(20, 28), (18, 18)]):
        base = rng.integers(0, 16384, (height, width, 3)).astype("float32") / 65535
        targets.append(base * 0.5)
        ldr = base[None] * gains[:, None, None, None]
        records.append(encode_stack_example(ldr, [0, 2, 4], base * 0.5, f"s{index}"))
    write_sharded(records, tmp_path, "train", 1)

    dataset = reader.stack_training_dataset(str(tmp_path), batch_size=4, patch_size=8)
    transforms = set()
    for inputs, hdr in dataset.take(8):
        ldr, hdr = inputs["ldr"].numpy(), hdr.numpy()
        assert ldr.shape == (4, 3, 8, 8, 3) and hdr.shape == (4, 8, 8, 3)
        np.testing.assert_array_equal(inputs["exposure"].numpy(), [[0, 2, 4]] * 4)
        for frames, target in zip(ldr, hdr):
            for gain, frame in zip(gains, frames):
                np.testing.assert_array_equal(frame, target * 2 * gain)
            found = [_locate(target, full) for full in targets]
            assert any(index is not None for index in found)
            transforms.update(index for index in found if index is not None)
    assert len(transforms) >= 4  # the 8 dihedral transforms are all in use


def test_training_batches_shapes_and_determinism(stack_shards):
    def first_batches(seed):
        dataset = reader.stack_training_dataset(
            str(stack_shards), batch_size=2, patch_size=32, seed=seed
        )
        return [
            (x["ldr"].numpy(), x["exposure"].numpy(), y.numpy())
            for x, y in dataset.take(3)
        ]

    batches = first_batches(seed=3)
    for ldr, exposure, hdr in batches:
        assert ldr.shape == (2, 3, 32, 32, 3) and exposure.shape == (2, 3)
        assert hdr.shape == (2, 32, 32, 3)
        assert ldr.min() >= 0 and ldr.max() <= 1 and hdr.min() >= 0
        np.testing.assert_allclose(ldr * 255, np.round(ldr * 255), atol=1e-3)
        assert set(map(tuple, exposure.tolist())) <= {(0, 2, 4), (0, 3, 6)}
    for first, second in zip(batches, first_batches(seed=3)):
        for a, b in zip(first, second):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(batches[0][0], first_batches(seed=4)[0][0])


def test_eval_dataset_is_deterministic_full_size(stack_shards):
    first = list(reader.stack_eval_dataset(str(stack_shards)))
    second = list(reader.stack_eval_dataset(str(stack_shards)))
    assert len(first) == 3
    for (x1, h1, n1), (x2, h2, n2) in zip(first, second):
        assert x1["ldr"].shape == (1, 3, 40, 48, 3) and x1["exposure"].shape == (1, 3)
        assert h1.shape == (1, 40, 48, 3) and n1 == n2
        np.testing.assert_array_equal(x1["ldr"], x2["ldr"])
        np.testing.assert_array_equal(h1, h2)


def test_training_rejects_stacks_smaller_than_the_patch(stack_shards):
    dataset = reader.stack_training_dataset(str(stack_shards), 1, patch_size=64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="smaller than patch_size"):
        next(iter(dataset))


# ------------------------------------------------------------ make and built-in
@pytest.mark.slow
def test_make_synthetic_stack(tmp_path, run_make):
    result = run_make(
        "--source=synthetic_stack",
        "--num_scenes=2",
        "--size=32",
        "--first_seed=5",
        f"--out={tmp_path}",
        "--num_shards=1",
        "--prefix=eval",
    )
    assert result.returncode == 0, result.stderr
    assert "synthetic_stack" in result.stderr and "2/2" in result.stderr
    names = [e["name"].numpy().decode() for e in reader.stack_records(str(tmp_path))]
    assert names == ["synthetic-stack-000005", "synthetic-stack-000006"]


def test_builtin_stack_set_is_written_once(tmp_path):
    spec = builtin.BuiltinStackSet(
        num_train=2, num_eval=1, train_size=32, eval_size=32, num_shards=1
    )
    train, evaluation = builtin.builtin_stack_data(spec, root=tmp_path)
    shard = Path(list_shards(train)[0])
    stamp = shard.stat().st_mtime_ns
    assert builtin.builtin_stack_data(spec, root=tmp_path) == (train, evaluation)
    assert shard.stat().st_mtime_ns == stamp
    assert len(list(reader.stack_records(train))) == 2
    (example,) = reader.stack_records(evaluation)
    assert (
        example["name"].numpy().decode()
        == f"synthetic-stack-{builtin.EVAL_FIRST_SEED:06d}"
    )
    assert example["ldr"].shape == (3, 32, 32, 3)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
