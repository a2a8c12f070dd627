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
- "camera": one shot of SingleHDR's formation model (Liu et al. 2020,
  `hdr_keras.ops.camera_singlehdr`) with every intermediate, for stage-wise
  supervision: `ldr` (the 8-bit/JPEG photo, uint16 as the stack frames), float32
  [H, W, 3] `hdr` (H t), `linear_clipped`, `ldr_unquantized`; float lists [1024]
  `crf` and `inverse_crf`; `exposure`, `jpeg_quality`, `height`, `width`, `name`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from hdr_keras.constants import CRF_SAMPLES

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


# ------------------------------------------------------------------ "camera" kind
KIND_CAMERA = "camera"
CAMERA_IMAGES = ("hdr", "linear_clipped", "ldr_unquantized")  # float32 payloads
CAMERA_CURVES = ("crf", "inverse_crf")  # float lists of CRF_SAMPLES values

_FEATURES_CAMERA = {
    "schema_version": tf.io.FixedLenFeature([], tf.int64),
    "kind": tf.io.FixedLenFeature([], tf.string),
    "name": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "height": tf.io.FixedLenFeature([], tf.int64, default_value=0),
    "width": tf.io.FixedLenFeature([], tf.int64, default_value=0),
    "ldr": tf.io.FixedLenFeature([], tf.string, default_value=""),
    **{
        key: tf.io.FixedLenFeature([], tf.string, default_value="")
        for key in CAMERA_IMAGES
    },
    **{key: tf.io.VarLenFeature(tf.float32) for key in CAMERA_CURVES},
    "exposure": tf.io.FixedLenFeature([], tf.float32, default_value=0.0),
    "jpeg_quality": tf.io.FixedLenFeature([], tf.int64, default_value=0),
}


def encode_camera_example(shot: dict, name: str) -> bytes:
    """Serialises one SingleHDR camera shot as a "camera" tf.train.Example.

    Args:
        shot: the dict of `hdr_keras.ops.camera_singlehdr.singlehdr_camera`:
            "ldr" [H, W, 3] in [0, 1] (stored as uint16 round(Z * 65535): exact for
            8-bit values k / 255), "hdr", "linear_clipped", "ldr_unquantized"
            [H, W, 3] (float32, stored as they are), "crf", "inverse_crf" [1024]
            (float lists), "exposure" (float), "jpeg_quality" (int).
        name: example name, quoted in errors.
    """
    images = {key: np.asarray(shot[key]) for key in ("ldr", *CAMERA_IMAGES)}
    shape = images["ldr"].shape
    if len(shape) != 3 or shape[-1] != 3:
        raise ValueError(f"{name}: camera LDR must be [H, W, 3], got {shape}")
    for key, image in images.items():
        if image.shape != shape:
            raise ValueError(
                f"{name}: camera image {key!r} has shape {image.shape}, the LDR {shape}"
            )
        if not np.all(np.isfinite(image)) or image.min() < 0.0:
            raise ValueError(f"{name}: camera image {key!r} has NaN/Inf or negatives")
    for key in ("ldr", "linear_clipped", "ldr_unquantized"):
        if images[key].max() > 1.0:
            raise ValueError(f"{name}: camera image {key!r} exceeds 1")
    curves = {
        key: np.asarray(shot[key], np.float32).reshape(-1) for key in CAMERA_CURVES
    }
    for key, curve in curves.items():
        if curve.size != CRF_SAMPLES or not np.all(np.isfinite(curve)):
            raise ValueError(
                f"{name}: {key!r} must be {CRF_SAMPLES} finite samples, got "
                f"{curve.size}"
            )
    ldr = np.round(images["ldr"].astype(np.float64) * LDR_SCALE)
    feature = {
        "schema_version": _int(SCHEMA_VERSION),
        "kind": _bytes(KIND_CAMERA.encode()),
        "name": _bytes(name.encode()),
        "height": _int(shape[0]),
        "width": _int(shape[1]),
        "ldr": _bytes(np.ascontiguousarray(ldr, dtype="<u2").tobytes()),
        **{
            key: _bytes(np.ascontiguousarray(images[key], dtype="<f4").tobytes())
            for key in CAMERA_IMAGES
        },
        **{key: _floats(curves[key].tolist()) for key in CAMERA_CURVES},
        "exposure": _floats([float(shot["exposure"])]),
        "jpeg_quality": _int(int(shot["jpeg_quality"])),
    }
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString()


def parse_camera_example(serialized: tf.Tensor, shard: tf.Tensor | str = "") -> dict:
    """Parses one serialised "camera" example.

    Returns:
        {"ldr": float32 [H, W, 3] in [0, 1], "hdr", "linear_clipped",
        "ldr_unquantized": float32 [H, W, 3], "crf", "inverse_crf": float32 [1024],
        "exposure": float32, "jpeg_quality": int64, "name": string}.

    `shard` is quoted in every error; a record of another kind or version, or whose
    payloads do not match the declared sizes, raises InvalidArgument.
    """
    features = tf.io.parse_single_example(serialized, _FEATURES_CAMERA)
    height = tf.cast(features["height"], tf.int32)
    width = tf.cast(features["width"], tf.int32)
    name = features["name"]
    payloads = {"ldr": tf.io.decode_raw(features["ldr"], tf.uint16, little_endian=True)}
    for key in CAMERA_IMAGES:
        payloads[key] = tf.io.decode_raw(features[key], tf.float32, little_endian=True)
    curves = {key: tf.sparse.to_dense(features[key]) for key in CAMERA_CURVES}
    checks = _header_checks(features, KIND_CAMERA, shard)
    for key, values in payloads.items():
        checks.append(
            tf.debugging.Assert(
                tf.equal(tf.size(values), height * width * 3),
                [
                    f"corrupt record: {key} payload size != height * width * 3 in "
                    "shard",
                    shard,
                    "example",
                    name,
                ],
            )
        )
    for key, values in curves.items():
        checks.append(
            tf.debugging.Assert(
                tf.equal(tf.size(values), CRF_SAMPLES),
                [
                    f"corrupt record: {key} has not {CRF_SAMPLES} samples in shard",
                    shard,
                    "example",
                    name,
                ],
            )
        )
    shape = tf.stack([height, width, 3])
    with tf.control_dependencies(checks):
        parsed = {key: tf.reshape(values, shape) for key, values in payloads.items()}
        for key, values in curves.items():
            parsed[key] = tf.reshape(values, [CRF_SAMPLES])
    parsed["ldr"] = tf.cast(parsed["ldr"], tf.float32) / LDR_SCALE
    parsed["exposure"] = features["exposure"]
    parsed["jpeg_quality"] = features["jpeg_quality"]
    parsed["name"] = name
    return parsed


def example_kind(serialized: bytes) -> str:
    """The `kind` of one serialised example ("hdr", "stack", "camera", ...)."""
    example = tf.train.Example.FromString(serialized)
    values = example.features.feature["kind"].bytes_list.value
    return values[0].decode() if values else ""


def decode_hdr_example(serialized: bytes) -> tuple[str, np.ndarray]:
    """(name, hdr float32 [H, W, 3]) of a serialised "hdr" example, in numpy (for
    writers that turn "hdr" examples into other kinds); ValueError on another kind
    or a payload that does not match its size."""
    features = tf.train.Example.FromString(serialized).features.feature
    name = features["name"].bytes_list.value[0].decode()
    kind = features["kind"].bytes_list.value[0].decode()
    if kind != KIND_HDR:
        raise ValueError(f"{name}: expected an {KIND_HDR!r} example, got {kind!r}")
    height = features["height"].int64_list.value[0]
    width = features["width"].int64_list.value[0]
    hdr = np.frombuffer(features["hdr"].bytes_list.value[0], dtype="<f4")
    if hdr.size != height * width * 3:
        raise ValueError(f"{name}: hdr payload size != height * width * 3")
    return name, hdr.reshape(height, width, 3).astype(np.float32)
