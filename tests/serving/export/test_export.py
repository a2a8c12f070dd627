"""Tests for serving.export: signatures, run-time input validation, atomic versioning."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers, ops

from serving.export import export_from_keras_file, export_model, next_version

RNG = np.random.default_rng(0)


@keras.saving.register_keras_serializable(package="hdr_keras_tests")
class WeightedFrameMean(layers.Layer):
    """Test-only merge: mean of linearised frames weighted by 2 ** -exposure."""

    def call(self, ldr, exposure):
        weights = ops.power(2.0, -exposure)[:, :, None, None, None]
        return ops.sum(ops.power(ldr, 2.2) * weights, axis=1) / ops.sum(weights, axis=1)


def single_model() -> keras.Model:
    keras.utils.set_random_seed(1)
    ldr = keras.Input((None, None, 3), name="ldr")
    hdr = layers.Conv2D(3, 3, padding="same", activation="softplus")(ldr)
    return keras.Model(ldr, hdr)


def stack_model() -> keras.Model:
    keras.utils.set_random_seed(2)
    ldr = keras.Input((None, None, None, 3), name="ldr")
    exposure = keras.Input((None,), name="exposure")
    merged = WeightedFrameMean()(ldr, exposure)
    hdr = layers.Conv2D(3, 1, activation="softplus")(merged)
    return keras.Model({"ldr": ldr, "exposure": exposure}, hdr)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    model = single_model()
    path = export_model(model, tmp_path_factory.mktemp("single"), "single")
    return model, tf.saved_model.load(str(path))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    model = stack_model()
    path = export_model(model, tmp_path_factory.mktemp("stack"), "stack")
    return model, tf.saved_model.load(str(path))


def ldr_batch(*shape) -> np.ndarray:
    return RNG.uniform(0.0, 1.0, shape).astype(np.float32)


def snapshot(folder: Path) -> dict:
    """Relative path -> (mtime_ns, sha256) of every file and folder under `folder`."""
    out = {".": (folder.stat().st_mtime_ns, None)}
    for path in sorted(folder.rglob("*")):
        digest = (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        )
        out[str(path.relative_to(folder))] = (path.stat().st_mtime_ns, digest)
    return out


def check_outputs(outputs: dict, expected_hdr: np.ndarray) -> None:
    assert set(outputs) == {"hdr", "tonemapped"}
    np.testing.assert_allclose(outputs["hdr"].numpy(), expected_hdr, atol=1e-5)
    tonemapped = outputs["tonemapped"].numpy()
    assert tonemapped.dtype == np.float32 and tonemapped.shape == expected_hdr.shape
    assert tonemapped.min() >= 0.0 and tonemapped.max() <= 1.0
    # Each image is normalised by its own maximum, so its peak maps to 1.
    np.testing.assert_allclose(tonemapped.max(axis=(1, 2, 3)), 1.0, atol=1e-5)


def test_single_default_matches_predict_on_odd_size(single):
    model, loaded = single
    ldr = ldr_batch(2, 33, 51, 3)
    outputs = loaded.signatures["serving_default"](ldr=tf.constant(ldr))
    check_outputs(outputs, model.predict(ldr, verbose=0))


def test_stack_default_matches_predict_on_odd_size(stack):
    model, loaded = stack
    ldr = ldr_batch(2, 3, 17, 23, 3)
    exposure = np.array([[-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], np.float32)
    outputs = loaded.signatures["serving_default"](
        ldr=tf.constant(ldr), exposure=tf.constant(exposure)
    )
    expected = model.predict({"ldr": ldr, "exposure": exposure}, verbose=0)
    check_outputs(outputs, expected)


@pytest.mark.parametrize("kind", ["single", "stack"])
def test_signature_specs(kind, single, stack):
    loaded = (single if kind == "single" else stack)[1]
    assert {"serving_default", "serving_bytes"} <= set(loaded.signatures)
    rank = 4 if kind == "single" else 5
    inputs = loaded.signatures["serving_default"].structured_input_signature[1]
    assert inputs["ldr"].shape.as_list() == [None] * (rank - 1) + [3]
    assert inputs["ldr"].dtype == tf.float32
    if kind == "stack":
        assert inputs["exposure"].shape.as_list() == [None, None]
    images = loaded.signatures["serving_bytes"].structured_input_signature[1]
    assert images["images"].dtype == tf.string
    assert images["images"].shape.rank == rank - 3
    for signature in ("serving_default", "serving_bytes"):
        outputs = loaded.signatures[signature].structured_outputs
        assert set(outputs) == {"hdr", "tonemapped"}


def nan_ldr():
    ldr = ldr_batch(1, 8, 8, 3)
    ldr[0, 3, 4, 1] = np.nan
    return ldr


def inf_ldr():
    ldr = ldr_batch(1, 8, 8, 3)
    ldr[0, 0, 0, 0] = np.inf
    return ldr


@pytest.mark.parametrize(
    "ldr, fragment",
    [
        (ldr_batch(8, 8, 3), "ldr must be rank 4 [batch, height, width, 3]"),
        (ldr_batch(1, 1, 8, 8, 3), "ldr must be rank 4"),
        (np.float32(0.5), "ldr must be rank 4"),
        (nan_ldr(), "ldr contains NaN or Inf"),
        (inf_ldr(), "ldr contains NaN or Inf"),
        (ldr_batch(1, 8, 8, 4), "ldr must have 3 channels (RGB) in its last dimension"),
        (ldr_batch(1, 8, 0, 3), "ldr is empty: every dimension must be > 0"),
        (ldr_batch(0, 8, 8, 3), "ldr is empty"),
        (ldr_batch(1, 8, 8, 3) + 1.5, "ldr values must lie in [0, 1]"),
        (ldr_batch(1, 8, 8, 3) - 0.5, "ldr values must lie in [0, 1]"),
    ],
)
def test_single_rejects_bad_input(single, ldr, fragment):
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        single[1].signatures["serving_default"](ldr=tf.constant(ldr))
    assert fragment in error.value.message


def test_single_accepts_rounding_slack(single):
    ldr = np.clip(ldr_batch(1, 8, 8, 3) * 1.0009 - 0.0004, -0.0009, 1.0009)
    single[1].signatures["serving_default"](ldr=tf.constant(ldr, tf.float32))


@pytest.mark.parametrize(
    "ldr_shape, exposure, fragment",
    [
        (
            (1, 3, 8, 8, 3),
            [[0.0, 1.0]],
            "exposure has N=2 values but ldr has N=3 frames",
        ),
        ((2, 2, 8, 8, 3), [[0.0, 1.0]], "exposure has B=1 rows but ldr has B=2 stacks"),
        ((1, 1, 8, 8, 3), [[0.0]], "ldr has N=1 frames; a stack needs at least 2"),
        ((1, 2, 8, 8, 3), [0.0, 1.0], "exposure must be rank 2 [batch, frames]"),
        ((1, 2, 8, 8, 3), [[0.0, np.nan]], "exposure contains NaN or Inf"),
        ((1, 2, 8, 8, 3), [[np.inf, 0.0]], "exposure contains NaN or Inf"),
        (
            (1, 8, 8, 3),
            [[0.0, 1.0]],
            "ldr must be rank 5 [batch, frames, height, width, 3]",
        ),
        ((1, 2, 8, 8, 1), [[0.0, 1.0]], "ldr must have 3 channels"),
        ((1, 2, 0, 8, 3), [[0.0, 1.0]], "ldr is empty"),
    ],
)
def test_stack_rejects_bad_input(stack, ldr_shape, exposure, fragment):
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        stack[1].signatures["serving_default"](
            ldr=tf.constant(ldr_batch(*ldr_shape)),
            exposure=tf.constant(exposure, tf.float32),
        )
    assert fragment in error.value.message


def encode_png(image: np.ndarray) -> bytes:
    return tf.io.encode_png(image).numpy()


def test_single_bytes_matches_default(single):
    _, loaded = single
    pixels = RNG.integers(0, 256, (2, 19, 27, 3), dtype=np.uint8)
    encoded = [encode_png(image) for image in pixels]
    encoded[1] = tf.io.encode_jpeg(pixels[1], quality=95).numpy()
    decoded = np.stack([pixels[0], tf.io.decode_jpeg(encoded[1]).numpy()]).astype(
        np.float32
    )
    from_bytes = loaded.signatures["serving_bytes"](images=tf.constant(encoded))
    from_floats = loaded.signatures["serving_default"](
        ldr=tf.constant(decoded / 255.0, tf.float32)
    )
    for key in ("hdr", "tonemapped"):
        np.testing.assert_allclose(from_bytes[key], from_floats[key], atol=1e-5)


def test_single_bytes_keeps_16_bit_png(single):
    _, loaded = single
    pixels = RNG.integers(0, 65536, (1, 9, 13, 3), dtype=np.uint16)
    from_bytes = loaded.signatures["serving_bytes"](
        images=tf.constant([encode_png(pixels[0])])
    )
    from_floats = loaded.signatures["serving_default"](
        ldr=tf.constant(pixels / 65535.0, tf.float32)
    )
    np.testing.assert_allclose(from_bytes["hdr"], from_floats["hdr"], atol=1e-5)


@pytest.mark.parametrize(
    "images, fragment",
    [
        ("sizes", "images must all share one size: image 0 is [9 13]"),
        ([b"not an image"], "Unknown image file format"),
        ([], "images is empty"),
        ([[b"x"]], "images must be rank 1 [batch]"),
    ],
)
def test_single_bytes_rejects_bad_input(single, images, fragment):
    if images == "sizes":
        images = [
            encode_png(np.zeros((9, 13, 3), np.uint8)),
            encode_png(np.zeros((9, 14, 3), np.uint8)),
        ]
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        single[1].signatures["serving_bytes"](images=tf.constant(images, tf.string))
    assert fragment in error.value.message


def test_stack_bytes_matches_default(stack):
    _, loaded = stack
    pixels = RNG.integers(0, 256, (1, 3, 11, 15, 3), dtype=np.uint8)
    encoded = [[encode_png(frame) for frame in pixels[0]]]
    exposure = tf.constant([[-2.0, 0.0, 2.0]])
    from_bytes = loaded.signatures["serving_bytes"](
        images=tf.constant(encoded), exposure=exposure
    )
    from_floats = loaded.signatures["serving_default"](
        ldr=tf.constant(pixels / 255.0, tf.float32), exposure=exposure
    )
    for key in ("hdr", "tonemapped"):
        np.testing.assert_allclose(from_bytes[key], from_floats[key], atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        loaded.signatures["serving_bytes"](
            images=tf.constant(encoded), exposure=exposure[:, :2]
        )
    assert "exposure has N=2 values but ldr has N=3 frames" in error.value.message


def test_versions_increment_and_existing_version_is_refused(tmp_path):
    model = single_model()
    base = tmp_path / "eilertsen"
    assert next_version(base) == 1
    first = export_model(model, base, "single")
    second = export_model(model, base, "single")
    assert (first.name, second.name) == ("1", "2")
    assert (first / "saved_model.pb").is_file() and (first / "variables").is_dir()
    before = snapshot(first)
    with pytest.raises(FileExistsError, match="version 1 already exists"):
        export_model(model, base, "single", version=1)
    assert snapshot(first) == before
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]
    assert export_model(model, base, "single", version=7).name == "7"
    assert next_version(base) == 8


def test_failure_mid_export_leaves_no_partial_folder(tmp_path, monkeypatch):
    model = single_model()
    base = tmp_path / "model"
    first = export_model(model, base, "single")
    before = snapshot(first)
    archive_class = type(keras.export.ExportArchive())
    write_out = archive_class.write_out

    def write_then_fail(self, filepath, *args, **kwargs):
        write_out(self, filepath, *args, **kwargs)
        assert os.listdir(filepath)  # files were really written before the failure
        raise RuntimeError("disk full")

    monkeypatch.setattr(archive_class, "write_out", write_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        export_model(model, base, "single")
    assert sorted(p.name for p in base.iterdir()) == ["1"]
    assert snapshot(first) == before


def test_bad_arguments(tmp_path):
    model = single_model()
    with pytest.raises(ValueError, match="input_kind"):
        export_model(model, tmp_path, "video")
    with pytest.raises(ValueError, match="positive integer"):
        export_model(model, tmp_path, "single", version=0)
    with pytest.raises(ValueError, match="'ldr' and 'exposure'"):
        export_model(model, tmp_path, "stack")
    assert list(tmp_path.iterdir()) == []


def test_export_from_keras_file(tmp_path):
    model = stack_model()
    keras_path = tmp_path / "stack.keras"
    model.save(keras_path)
    path = export_from_keras_file(keras_path, tmp_path / "repo", "stack", version=3)
    assert path == tmp_path / "repo" / "3"
    ldr = ldr_batch(1, 2, 10, 12, 3)
    exposure = np.array([[0.0, 1.5]], np.float32)
    outputs = tf.saved_model.load(str(path)).signatures["serving_default"](
        ldr=tf.constant(ldr), exposure=tf.constant(exposure)
    )
    expected = model.predict({"ldr": ldr, "exposure": exposure}, verbose=0)
    check_outputs(outputs, expected)
