"""Kalantari's training patches: grid, selection rule, records, 48 augmentations."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrecords import patches
from tfrecords.augment import (
    CHANNEL_PERMUTATIONS,
    NUM_STACK_TRANSFORMS,
    transform_stack,
)
from tfrecords.reader import stack_records
from tfrecords.schema import encode_stack_example
from tfrecords.shards import write_sharded

RNG = np.random.default_rng(5)


def _stack(height, width, seed=0, reference_value=None):
    rng = np.random.default_rng(seed)
    ldr = rng.uniform(0, 1, (3, height, width, 3)).astype("float32")
    if reference_value is not None:
        ldr[1] = reference_value
    hdr = rng.uniform(0, 1, (height, width, 3)).astype("float32")
    return ldr, np.float32([0, 2, 4]), hdr


def test_patch_grid_of_the_paper_and_scaled_border():
    origins = patches.patch_origins(1000, 1500)  # 40 px, stride 20, border 50
    assert len(origins) == 44 * 69
    assert origins[0] == (50, 50) and origins[-1] == (910, 1410)
    assert patches.scaled_border(1000, 1500) == 50
    assert patches.scaled_border(256, 256) == 13
    assert patches.patch_origins(60, 61, size=40, stride=20, border=10) == [(10, 10)]
    assert patches.patch_origins(59, 80, size=40, stride=20, border=10) == []


def test_selection_rule_keeps_patches_with_more_than_half_extreme_values():
    reference = np.full((40, 120, 3), 0.5, "float32")
    total = 40 * 40 * 3
    flat = reference[:, 0:40].reshape(-1)
    flat[: total // 2] = 0.9  # exactly half above 0.8: not kept
    reference[:, 0:40] = flat.reshape(40, 40, 3)
    flat = reference[:, 40:80].reshape(-1)
    flat[: total // 2 + 1] = 0.1  # one value more than half below 0.2: kept
    reference[:, 40:80] = flat.reshape(40, 40, 3)
    flat = reference[:, 80:120].reshape(-1)
    flat[:] = 0.8  # the thresholds themselves are not extreme (strict)
    flat[:100] = 0.2
    reference[:, 80:120] = flat.reshape(40, 40, 3)
    origins = [(0, 0), (0, 40), (0, 80)]
    assert patches.extreme_fraction(reference[:, 0:40]) == 0.5
    assert patches.select_patches(reference, origins) == ([(0, 40)], 0)


def test_fallback_keeps_the_most_extreme_patch_when_none_passes():
    reference = np.full((40, 80, 3), 0.5, "float32")
    reference[:10, 40:80] = 0.95  # 25 % extreme: best, but below the rule
    origins = [(0, 0), (0, 40)]
    assert patches.select_patches(reference, origins) == ([(0, 40)], 1)
    assert patches.select_patches(reference, origins, fallback=0) == ([], 0)


def test_patch_records_cut_named_patches_of_the_selected_windows():
    dark = _stack(80, 100, seed=1, reference_value=0.05)  # every patch selected
    mid = _stack(80, 100, seed=2, reference_value=0.5)  # none: fallback keeps 1
    records = [encode_stack_example(*dark, "dark"), encode_stack_example(*mid, "mid")]
    stats = patches.PatchStats()
    written = list(patches.patch_records(records, border=0, stats=stats))
    assert (stats.stacks, stats.candidates, stats.selected, stats.fallback) == (
        2,
        2 * 3 * 4,
        12,
        1,
    )
    assert "13 patches from 2 stacks" in stats.summary()
    decoded = [patches.decode_stack(r) for r in written]
    assert decoded[0]["name"] == "dark/y0x0" and decoded[-1]["name"].startswith("mid/")
    first = decoded[5]  # dark, origin (20, 20)
    assert first["name"] == "dark/y20x20"
    np.testing.assert_allclose(first["hdr"], dark[2][20:60, 20:60])
    np.testing.assert_allclose(first["ldr"], dark[0][:, 20:60, 20:60], atol=1e-5)
    np.testing.assert_array_equal(first["exposure"], dark[1])


def test_align_records_applies_the_aligner_to_every_stack():
    ldr, exposure, hdr = _stack(8, 8)
    calls = []

    def shift(frames, biases, reference):
        calls.append(reference)
        return np.roll(frames, 1, axis=2)

    (record,) = patches.align_records(
        [encode_stack_example(ldr, exposure, hdr, "s")], shift
    )
    aligned = patches.decode_stack(record)
    np.testing.assert_allclose(aligned["ldr"], np.roll(ldr, 1, axis=2), atol=1e-5)
    assert calls == [1]


def test_48_distinct_transforms_consistent_across_frames_and_target():
    base = RNG.uniform(0, 1, (4, 4, 3)).astype("float32")
    frames = np.stack([base, base * 0.5, base * 0.25])
    outputs = set()
    for index in range(NUM_STACK_TRANSFORMS):
        out_frames, out_target = transform_stack(frames, base, index)
        out_frames, out_target = out_frames.numpy(), out_target.numpy()
        # Every frame and the target got the same transform, frame order kept.
        np.testing.assert_allclose(out_frames[0], out_target)
        np.testing.assert_allclose(out_frames[1], out_target * 0.5)
        np.testing.assert_allclose(out_frames[2], out_target * 0.25)
        permutation = CHANNEL_PERMUTATIONS[index // 8]
        geometric = base[..., list(permutation)]
        if index % 8 >= 4:
            geometric = geometric[:, ::-1]
        np.testing.assert_array_equal(out_target, np.rot90(geometric, index % 4))
        outputs.add(out_target.tobytes())
    assert len(outputs) == 48


def test_patch_training_dataset_batches_augmented_patches(tmp_path):
    stacks = [_stack(40, 40, seed=s) for s in range(3)]
    write_sharded(
        (encode_stack_example(*s, f"p{i}") for i, s in enumerate(stacks)),
        tmp_path,
        "train",
        2,
    )
    pattern = str(tmp_path / "train-*.tfrecord")

    def first_batches(seed):
        dataset = patches.patch_training_dataset(pattern, 4, 40, seed=seed)
        return [batch for batch in dataset.take(3)]

    batches = first_batches(7)
    inputs, target = batches[0]
    assert inputs["ldr"].shape == (4, 3, 40, 40, 3) and target.shape == (4, 40, 40, 3)
    np.testing.assert_array_equal(inputs["exposure"], np.tile([0, 2, 4], (4, 1)))
    # Each element is one of the 48 transforms of a stored patch (same on all).
    augmented = tf.function(transform_stack)
    candidates = [
        [t.numpy() for t in augmented(ldr, hdr, tf.constant(k))]
        for ldr, _, hdr in stacks
        for k in range(NUM_STACK_TRANSFORMS)
    ]
    for inputs, target in batches:
        for ldr, hdr in zip(inputs["ldr"].numpy(), target.numpy()):
            assert any(
                np.allclose(hdr, c_hdr) and np.allclose(ldr, c_ldr, atol=1e-5)
                for c_ldr, c_hdr in candidates
            )
    again = first_batches(7)
    np.testing.assert_array_equal(again[2][1], batches[2][1])
    assert list(stack_records(pattern))  # the records are ordinary stacks


def test_patch_training_dataset_names_a_patch_smaller_than_patch_size(tmp_path):
    write_sharded([encode_stack_example(*_stack(20, 24), "small")], tmp_path, "t", 1)
    dataset = patches.patch_training_dataset(str(tmp_path / "t-*.tfrecord"), 1, 40)
    with pytest.raises(tf.errors.InvalidArgumentError, match="small"):
        next(iter(dataset))


def test_make_cli_writes_selected_patches(run_make, tmp_path):
    result = run_make(
        "--source=synthetic_stack",
        "--num_scenes=2",
        "--size=96",
        f"--out={tmp_path}",
        "--num_shards=1",
        "--patches",
    )
    assert result.returncode == 0, result.stderr
    assert "patches from 2 stacks" in result.stdout
    examples = list(stack_records(str(tmp_path / "train-*.tfrecord")))
    assert examples and all(e["ldr"].shape == (3, 40, 40, 3) for e in examples)
    assert examples[0]["name"].numpy().decode().startswith("synthetic-stack-000000/y")


def test_builtin_patch_set_is_aligned_once_and_cached(tmp_path, monkeypatch):
    from tfrecords import builtin

    # The real flow runs in tests/training/test_kalantari.py; count the calls here.
    calls = []

    def counting_aligner():
        def align(frames, biases, reference):
            calls.append(reference)
            return frames

        return align

    monkeypatch.setattr(patches, "flow_aligner", counting_aligner)

    stacks = builtin.BuiltinStackSet(
        num_train=2, num_eval=1, train_size=64, eval_size=48, num_shards=1
    )
    spec = builtin.BuiltinKalantariPatchSet(stacks, num_stacks=1, num_shards=1)
    train, evaluation = builtin.builtin_kalantari_patch_data(spec, root=tmp_path)
    assert evaluation == builtin.builtin_stack_data(stacks, root=tmp_path)[1]
    names = [e["name"].numpy().decode() for e in stack_records(train)]
    assert names and len({n.split("/")[0] for n in names}) == 1  # num_stacks
    assert calls == [1]  # aligned once, to the middle frame
    folder = tmp_path / spec.folder_name
    stamp = (folder / builtin.COMPLETE_MARKER).stat().st_mtime_ns
    assert builtin.builtin_kalantari_patch_data(spec, root=tmp_path)[0] == train
    assert (folder / builtin.COMPLETE_MARKER).stat().st_mtime_ns == stamp
    assert calls == [1]  # the cached set is reused, not aligned again
