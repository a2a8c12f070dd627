"""The one TFRecord schema of hdr-keras: how examples are encoded and parsed.

Decoding of image files happens when records are WRITTEN (OpenCV/OpenEXR through
`hdr_keras.io`); records hold raw float32 tensors, so training reads them with core
TF ops only. Every example carries `schema_version` so old shards are recognised.

Kinds of example (feature `kind`):
- "hdr": one linear HDR image `hdr` [H, W, 3] (single-image methods simulate the
  LDR input on the fly with the virtual camera).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

SCHEMA_VERSION = 1
KIND_HDR = "hdr"
SHARD_SUFFIX = ".tfrecord"

_FEATURES_HDR = {
    "schema_version": tf.io.FixedLenFeature([], tf.int64),
    "kind": tf.io.FixedLenFeature([], tf.string),
    "name": tf.io.FixedLenFeature([], tf.string),
    "height": tf.io.FixedLenFeature([], tf.int64),
    "width": tf.io.FixedLenFeature([], tf.int64),
    "hdr": tf.io.FixedLenFeature([], tf.string),
}


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


def parse_hdr_example(serialized: tf.Tensor, shard: tf.Tensor | str = "") -> dict:
    """Parses one serialised "hdr" example -> {"hdr": [H, W, 3] float32, "name": str}.

    `shard` (the file the record came from) is quoted in every error message; a
    record whose payload does not match its declared size raises InvalidArgument.
    """
    features = tf.io.parse_single_example(serialized, _FEATURES_HDR)
    height = tf.cast(features["height"], tf.int32)
    width = tf.cast(features["width"], tf.int32)
    values = tf.io.decode_raw(features["hdr"], tf.float32, little_endian=True)
    checks = [
        tf.debugging.Assert(
            tf.equal(features["schema_version"], SCHEMA_VERSION),
            [
                f"unsupported schema_version (this reader: {SCHEMA_VERSION}) in shard",
                shard,
            ],
        ),
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
