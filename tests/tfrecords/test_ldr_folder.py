"""Source "ldr_folder" (HDRCNN pre-training records from LDR photos): the authors'
inverse camera curve, the skip reasons, and `python -m tfrecords.make` on real photos.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.io.ldr import read_ldr
from hdr_keras.ops.camera import curve_sigmoid, inverse_curve_sigmoid
from tfrecords import reader
from tfrecords.sources import ldr_folder
from tfrecords.sources.hdr_folder import limit_size

DATA = Path(os.environ.get("HDR_KERAS_TEST_DATA", "../shared/data"))
MEMORIAL = DATA / "memorial_church_debevec"
FROBISHER = DATA / "colour_hdri_tests" / "frobisher_001"
CROPS = DATA / "marcelsan_sihdr_crops" / "crops"

# float32 evaluation of the same closed form: a few ulps of values in [0, 1].
FLOAT32_TOLERANCE = 8 * np.finfo(np.float32).eps


def test_linearize_is_the_authors_curve_inverted():
    z = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    h = ldr_folder.linearize(z)
    # virtualcamera.cpp --linearize: H = (0.6 z / (1.6 - z))^(1 / 0.9).
    expected = np.power(0.6 * z / (1.6 - z), 1.0 / 0.9)
    np.testing.assert_allclose(h, expected, rtol=FLOAT32_TOLERANCE, atol=1e-7)
    np.testing.assert_allclose(
        h, inverse_curve_sigmoid(z, 0.9, 0.6), rtol=FLOAT32_TOLERANCE, atol=1e-7
    )
    np.testing.assert_allclose(curve_sigmoid(h, 0.9, 0.6), z, atol=FLOAT32_TOLERANCE)
    assert h[0] == 0.0 and abs(h[-1] - 1.0) <= FLOAT32_TOLERANCE
    assert np.all(np.diff(h) > 0)


def test_saturated_fraction_counts_pixels_with_any_channel_at_white():
    image = np.zeros((4, 5, 3), np.float32)
    image[0, 0, 2] = 1.0  # one channel clipped
    image[1, 1] = ldr_folder.SATURATED_LEVEL  # exactly at the level
    image[2, 2] = ldr_folder.SATURATED_LEVEL - 1 / 255  # one code below
    assert ldr_folder.saturated_fraction(image) == 2 / 20


def _write_png(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.round(rgb[..., ::-1] * 255).astype(np.uint8))


def test_records_skip_by_reason_without_crashing(tmp_path):
    rng = np.random.default_rng(0)
    good = rng.uniform(0.1, 0.9, (240, 250, 3)).astype(np.float32)
    saturated = good.copy()
    saturated[:30] = 1.0  # 30 of 240 rows: 12.5 % of the pixels
    _write_png(tmp_path / "a" / "good.png", good)
    _write_png(tmp_path / "a" / "b" / "saturated.png", saturated)
    _write_png(tmp_path / "small.png", good[:100, :200])
    (tmp_path / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    (tmp_path / "notes.txt").write_text("not an image")

    files = ldr_folder.find_ldr_files(tmp_path)
    assert [p.name for p in files] == [
        "saturated.png",  # a/b/ sorts before a/good.png
        "good.png",
        "corrupt.jpg",
        "small.png",
    ]
    stats = ldr_folder.LdrFolderStats()
    records = list(ldr_folder.ldr_folder_records(files, stats, max_saturated=0.1))
    assert len(records) == stats.written == 1
    assert {
        reason: [Path(p).name for p in names] for reason, names in stats.skipped.items()
    } == {
        "too saturated": ["saturated.png"],
        "unreadable": ["corrupt.jpg"],
        "too small": ["small.png"],
    }
    assert "1 photos written; skipped: 1 unreadable, 1 too small, 1 too saturated" in (
        stats.summary()
    )
    # A looser limit keeps the saturated photo.
    stats = ldr_folder.LdrFolderStats()
    assert (
        len(list(ldr_folder.ldr_folder_records(files, stats, max_saturated=0.2))) == 2
    )


def test_missing_or_empty_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder not found"):
        ldr_folder.find_ldr_files(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        ldr_folder.find_ldr_files(tmp_path)


def _real_photos(tmp_path: Path) -> Path:
    """A folder of links to real photos (and two bad files) in subfolders."""
    needed = [
        MEMORIAL / "memorial0061.png",  # 55 % saturated
        MEMORIAL / "memorial0068.png",  # 1.9 %
        FROBISHER / "IMG_2600.jpg",  # 4.7 %
        FROBISHER / "IMG_2602.jpg",  # 33 %
        CROPS / "0007.png",  # 7.1 %
    ]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        pytest.skip(f"real photos absent (HDR_KERAS_TEST_DATA={DATA}): {missing}")
    photos = tmp_path / "photos"
    for path in needed:
        link = photos / path.parent.name / path.name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path)
    # A truncated copy of a real JPEG, and a real photo too small to crop.
    data = (FROBISHER / "IMG_2601.jpg").read_bytes()
    (photos / "broken").mkdir()
    (photos / "broken" / "truncated.jpg").write_bytes(data[:400])
    small = cv2.resize(read_ldr(MEMORIAL / "memorial0070.png"), (128, 192))
    _write_png(photos / "small" / "memorial0070_small.png", small)
    return photos


def test_make_cli_on_real_photos(tmp_path, run_make):
    photos = _real_photos(tmp_path)
    out = tmp_path / "records"
    result = run_make(
        "--source=ldr_folder",
        f"--input={photos}",
        f"--out={out}",
        "--num_shards=2",
        "--max_saturated=0.05",
        "--max_side=256",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "ldr_folder: 2 photos written; skipped: 1 unreadable, 1 too small, "
        "3 too saturated" in result.stdout
    )
    for name in ("truncated.jpg", "memorial0070_small.png", "memorial0061.png",
                 "IMG_2602.jpg", "0007.png"):  # fmt: skip
        assert name in result.stderr, name
    assert "Traceback" not in result.stderr
    assert "%|" in result.stderr  # tqdm progress bar

    examples = {
        e["name"].numpy().decode(): e["hdr"].numpy()
        for e in reader.hdr_records(str(out / "train-*.tfrecord"))
    }
    assert sorted(examples) == ["IMG_2600.jpg", "memorial0068.png"]
    expected = limit_size(
        ldr_folder.linearize(read_ldr(MEMORIAL / "memorial0068.png")), 256
    )
    np.testing.assert_array_equal(examples["memorial0068.png"], expected)
    assert examples["IMG_2600.jpg"].shape == (170, 256, 3)

    # The single-image reader (virtual camera) consumes them unchanged.
    batch = next(iter(reader.single_image_training_dataset(str(out), 2, 32)))
    assert batch[0].shape == (2, 32, 32, 3) and batch[1].shape == (2, 32, 32, 3)
    assert bool(tf.reduce_all(tf.math.is_finite(batch[1])))


def test_make_cli_fails_clearly_when_every_photo_is_skipped(tmp_path, run_make):
    photos = _real_photos(tmp_path)
    out = tmp_path / "records"
    result = run_make(
        "--source=ldr_folder", f"--input={photos}", f"--out={out}", "--max_saturated=0"
    )
    assert result.returncode == 1
    assert f"no photo below {photos} passed the checks" in result.stderr
    assert not list(out.glob("*.tfrecord"))
