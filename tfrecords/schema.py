"""The one TFRecord schema of hdr-keras: how examples are encoded and parsed.

Decoding of image files happens when records are WRITTEN (OpenCV/OpenEXR through
`hdr_keras.io`); records hold raw float32 tensors, so training reads them with core
TF ops only. Every example carries `schema_version` so old shards are recognised.

Kinds of example (feature `kind`):
- "hdr": one linear HDR image `hdr` [H, W, 3] (single-image methods simulate the
  LDR input on the fly with the virtual camera).
- "stack": a bracketed exposure stack for the stack methods (Kalantari, Wu, AHDRNet):
  - `ldr`: N frames [N, H, W, 3], display-referred values in [0, 1], sorted by
    exposure, stored as little-endian uint16 round(Z * 65535) (decoded as
    value / 65535): lossless for 16-bit TIFFs and for 8-bit data (k / 255 =
    257 k / 65535), half the size of float32;
  - `exposure`: float list [N], exposure biases in stops (t_i = 2 ** bias_i);
  - `hdr`: float32 [H, W, 3] linear target aligned to the reference frame, in the
    units where H_i = Z_i ** 2.2 / t_i matches it (Kalantari's convention);
  - `num_frames`, `height`, `width`, `name`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

SCHEMA_VERSION = 1
KIND_HDR = "hdr"
KIND_STACK = "stack"
SHARD_SUFFIX = ".tfrecord"

_FEATURES_HDR = {
    "schema_version": tf.io.FixedLenFeature([], tf.int64),
    "kind": tf.io.FixedLenFeature([], tf.string),
    "name": tf.io.FixedLenFeature([], tf.string),
    "height": tf.io.FixedLenFeature([], tf.int64),
    "width": tf.io.FixedLenFeature([], tf.int64),
    "hdr": tf.io.FixedLenFeature([], tf.string),
}


# Stack-only features default to empty so that a record of another kind reaches the
# `kind` check (whose message names the shard) instead of a bare "feature missing".
_FEATURES_STACK = {
    "schema_version": tf.io.FixedLenFeature([], tf.int64),
    "kind": tf.io.FixedLenFeature([], tf.string),
    "name": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "num_frames": tf.io.FixedLenFeature([], tf.int64, default_value=0),
    "height": tf.io.FixedLenFeature([], tf.int64, default_value=0),
    "width": tf.io.FixedLenFeature([], tf.int64, default_value=0),
    "ldr": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "exposure": tf.io.VarLenFeature(tf.float32),
    "hdr": tf.io.FixedLenFeature([], tf.string, default_value=""),
}
LDR_SCALE = 65535.0  # stack frames are stored as uint16 round(Z * LDR_SCALE)


def _bytes(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int(value: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def encode_hdr_example(hdr: np.ndarray, name: str) -> bytes:
    """Serialises a linear HDR image [H, W, 3] (finite, >= 0) as a tf.train.Example."""
    hdr = np.asarray(hdr)
    if hdr.ndim != 3 or hdr.shape[-1] != 3:
        raise ValueError(f"{name}: HDR image must be [H, W, 3], got shape {hdr.shape}")
    if not np.all(np.isfinite(hdr)):
        raise ValueError(f"{name}: HDR image contains NaN or Inf values")
    hdr = np.ascontiguousarray(np.maximum(hdr, 0.0), dtype="<f4")
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "schema_version": _int(SCHEMA_VERSION),
                "kind": _bytes(KIND_HDR.encode()),
                "name": _bytes(name.encode()),
                "height": _int(hdr.shape[0]),
                "width": _int(hdr.shape[1]),
                "hdr": _bytes(hdr.tobytes()),
            }
        )
    )
    return example.SerializeToString()


def _header_checks(features: dict, kind: str, shard) -> list:
    """Run-time checks of schema version and example kind, naming the shard."""
    return [
        tf.debugging.Assert(
            tf.equal(features["schema_version"], SCHEMA_VERSION),
            [
                f"unsupported schema_version (this reader: {SCHEMA_VERSION}) in shard",
                shard,
            ],
        ),
        tf.debugging.Assert(
            tf.equal(features["kind"], kind),
            [
                f'expected a "{kind}" example, got kind',
                features["kind"],
                "in shard",
                shard,
            ],
        ),
    ]


def parse_hdr_example(serialized: tf.Tensor, shard: tf.Tensor | str = "") -> dict:
    """Parses one serialised "hdr" example -> {"hdr": [H, W, 3] float32, "name": str}.

    `shard` (the file the record came from) is quoted in every error message; a
    record whose payload does not match its declared size, or of another kind (e.g.
    a "stack", which also has an `hdr` feature), raises InvalidArgument.
    """
    features = tf.io.parse_single_example(serialized, _FEATURES_HDR)
    height = tf.cast(features["height"], tf.int32)
    width = tf.cast(features["width"], tf.int32)
    values = tf.io.decode_raw(features["hdr"], tf.float32, little_endian=True)
    checks = [
        *_header_checks(features, KIND_HDR, shard),
        tf.debugging.Assert(
            tf.equal(tf.size(values), height * width * 3),
            [
                "corrupt record: hdr payload size != height * width * 3 in shard",
                shard,
                "example",
                features["name"],
            ],
        ),
    ]
    with tf.control_dependencies(checks):
        hdr = tf.reshape(values, tf.stack([height, width, 3]))
    return {"hdr": hdr, "name": features["name"]}


def _floats(values) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))


def encode_stack_example(
    ldr: np.ndarray, exposure: np.ndarray, hdr: np.ndarray, name: str
) -> bytes:
    """Serialises a bracketed stack as a "stack" tf.train.Example.

    Args:
        ldr: [N, H, W, 3] display-referred frames in [0, 1] sorted by exposure
            (float; rounded to the 1/65535 grid, exact for 8- and 16-bit data),
            or uint16 values as stored.
        exposure: [N] finite exposure biases in stops.
        hdr: [H, W, 3] linear target (finite; negatives are clamped to 0).
        name: example name, quoted in errors.
    """
    ldr = np.asarray(ldr)
    exposure = np.asarray(exposure, dtype=np.float32).reshape(-1)
    hdr = np.asarray(hdr)
    if ldr.ndim != 4 or ldr.shape[-1] != 3 or ldr.shape[0] < 1:
        raise ValueError(f"{name}: LDR stack must be [N, H, W, 3], got {ldr.shape}")
    if hdr.shape != ldr.shape[1:]:
        raise ValueError(
            f"{name}: HDR target shape {hdr.shape} does not match the frames "
            f"{ldr.shape[1:]}"
        )
    if exposure.size != ldr.shape[0] or not np.all(np.isfinite(exposure)):
        raise ValueError(
            f"{name}: need {ldr.shape[0]} finite exposure biases (one per frame), "
            f"got {exposure.tolist()}"
        )
    if not np.all(np.isfinite(hdr)):
        raise ValueError(f"{name}: HDR target contains NaN or Inf values")
    if ldr.dtype != np.uint16:
        if not np.all(np.isfinite(ldr)) or ldr.min() < 0.0 or ldr.max() > 1.0:
            raise ValueError(f"{name}: LDR frames must be finite values in [0, 1]")
        ldr = np.round(ldr.astype(np.float64) * LDR_SCALE)
    ldr = np.ascontiguousarray(ldr, dtype="<u2")
    hdr = np.ascontiguousarray(np.maximum(hdr, 0.0), dtype="<f4")
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "schema_version": _int(SCHEMA_VERSION),
                "kind": _bytes(KIND_STACK.encode()),
                "name": _bytes(name.encode()),
                "num_frames": _int(ldr.shape[0]),
                "height": _int(ldr.shape[1]),
                "width": _int(ldr.shape[2]),
                "ldr": _bytes(ldr.tobytes()),
                "exposure": _floats(exposure.tolist()),
                "hdr": _bytes(hdr.tobytes()),
            }
        )
    )
    return example.SerializeToString()


def parse_stack_example(serialized: tf.Tensor, shard: tf.Tensor | str = "") -> dict:
    """Parses one serialised "stack" example.

    Returns:
        {"ldr": float32 [N, H, W, 3] in [0, 1], "exposure": float32 [N] (stops),
        "hdr": float32 [H, W, 3], "name": string}.

    `shard` (the file the record came from) is quoted in every error message; a
    record of another kind, of another schema version, or whose payloads do not
    match the declared sizes raises InvalidArgument.
    """
    features = tf.io.parse_single_example(serialized, _FEATURES_STACK)
    frames = tf.cast(features["num_frames"], tf.int32)
    height = tf.cast(features["height"], tf.int32)
    width = tf.cast(features["width"], tf.int32)
    exposure = tf.sparse.to_dense(features["exposure"])
    ldr = tf.io.decode_raw(features["ldr"], tf.uint16, little_endian=True)
    hdr = tf.io.decode_raw(features["hdr"], tf.float32, little_endian=True)
    name = features["name"]
    checks = [
        *_header_checks(features, KIND_STACK, shard),
        tf.debugging.Assert(
            tf.equal(tf.size(ldr), frames * height * width * 3),
            [
                "corrupt record: ldr payload size != num_frames * height * width * 3 "
                "in shard",
                shard,
                "example",
                name,
            ],
        ),
        tf.debugging.Assert(
            tf.logical_and(frames > 0, tf.equal(tf.size(exposure), frames)),
            [
                "corrupt record: exposure list length != num_frames in shard",
                shard,
                "example",
                name,
            ],
        ),
        tf.debugging.Assert(
            tf.equal(tf.size(hdr), height * width * 3),
            [
                "corrupt record: hdr payload size != height * width * 3 in shard",
                shard,
                "example",
                name,
            ],
        ),
    ]
    with tf.control_dependencies(checks):
        ldr = tf.reshape(ldr, tf.stack([frames, height, width, 3]))
        hdr = tf.reshape(hdr, tf.stack([height, width, 3]))
        exposure = tf.identity(exposure)
    return {
        "ldr": tf.cast(ldr, tf.float32) / LDR_SCALE,
        "exposure": exposure,
        "hdr": hdr,
        "name": name,
    }
