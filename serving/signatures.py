"""Serving functions behind the SavedModel signatures: validation, decoding, outputs.

Every function here runs inside the traced serving graph (TF ops only, no Python
control flow on tensors). Two facts shape the validation code:

- A signature loaded with `tf.saved_model.load`, or served by TF Serving, does NOT
  enforce its input spec: a rank-3 tensor reaches a `[None, None, None, 3]` signature.
- Checks on `tf.rank`/`tf.shape` are folded away: at trace time (static shape known)
  and again by the graph optimizer at run time, which trusts the declared argument
  shapes. So every shape check here reads the run-time shape through `_runtime_shape`,
  which the optimizer cannot see through, and each stage of checks gates the next with
  control dependencies so that e.g. a rank-0 tensor never reaches a slicing op.

A failed check raises `tf.errors.InvalidArgumentError` (gRPC INVALID_ARGUMENT) whose
message starts with "assertion failed: [<readable text naming the input>]".
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from hdr_keras.ops.tonemap import display_tonemap
from hdr_keras.spec import SINGLE, STACK

# LDR values are display-referred in [0, 1]; allow this much rounding slack.
LDR_TOLERANCE = 1e-3
# Signature of an 8-byte PNG file header: PNGs decode losslessly at 16 bits.
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

SINGLE_LDR_SPEC = tf.TensorSpec([None, None, None, 3], tf.float32, name="ldr")
STACK_LDR_SPEC = tf.TensorSpec([None, None, None, None, 3], tf.float32, name="ldr")
EXPOSURE_SPEC = tf.TensorSpec([None, None], tf.float32, name="exposure")
SINGLE_IMAGES_SPEC = tf.TensorSpec([None], tf.string, name="images")
STACK_IMAGES_SPEC = tf.TensorSpec([None, None], tf.string, name="images")


def _runtime_shape(x: tf.Tensor) -> tf.Tensor:
    """Run-time shape of `x` (int32 vector) with no static shape or value attached.

    The serialize/parse round trip hides the shape from constant folding, so that
    `tf.size(...)` (the rank) and slices of it are evaluated on the real input.
    """
    shape = tf.shape(x, out_type=tf.int32)
    return tf.io.parse_tensor(tf.io.serialize_tensor(shape), out_type=tf.int32)


def _assert(condition: tf.Tensor, message) -> tf.Operation:
    """A run-time assertion whose error text is `message` (str or scalar string)."""
    return tf.debugging.Assert(condition, [message])


def _gate(checks: list, *tensors: tf.Tensor):
    """Identity copies of `tensors` that only exist once every op in `checks` ran."""
    with tf.control_dependencies(checks):
        gated = tuple(tf.identity(t) for t in tensors)
    return gated if len(gated) > 1 else gated[0]


def _format(template: str, *values: tf.Tensor) -> tf.Tensor:
    return tf.strings.format(template, values, summarize=-1)


def _check_shape(x: tf.Tensor, name: str, layout: list[str], channels: int | None):
    """Checks rank, channel count and non-emptiness; returns (gated x, gated shape)."""
    shape = _runtime_shape(x)
    rank = len(layout)
    rank_ok = _assert(
        tf.equal(tf.size(shape), rank),
        f"{name} must be rank {rank} [{', '.join(layout)}]",
    )
    shape = _gate([rank_ok], shape)
    checks = []
    if channels is not None:
        checks.append(
            _assert(
                tf.equal(shape[-1], channels),
                _format(
                    f"{name} must have {channels} channels (RGB) in its last "
                    "dimension, got {}",
                    shape[-1],
                ),
            )
        )
    checks.append(
        _assert(
            tf.reduce_all(shape > 0),
            _format(
                f"{name} is empty: every dimension must be > 0, got shape {{}}", shape
            ),
        )
    )
    return _gate(checks, x, shape)


def _check_finite(x: tf.Tensor, name: str) -> tf.Tensor:
    ok = _assert(tf.reduce_all(tf.math.is_finite(x)), f"{name} contains NaN or Inf")
    return _gate([ok], x)


def validate_ldr(ldr: tf.Tensor, layout: list[str]) -> tf.Tensor:
    """Validated `ldr`: rank len(layout), 3 channels, non-empty, finite, in [0, 1]."""
    checked, _ = _check_shape(ldr, "ldr", layout, channels=3)
    checked = _check_finite(checked, "ldr")
    low, high = tf.reduce_min(checked), tf.reduce_max(checked)
    in_range = _assert(
        tf.logical_and(low >= -LDR_TOLERANCE, high <= 1.0 + LDR_TOLERANCE),
        _format(
            f"ldr values must lie in [0, 1] (tolerance {LDR_TOLERANCE:g}), "
            "got min={} max={}",
            low,
            high,
        ),
    )
    return _gate([in_range], checked)


def validate_single(ldr: tf.Tensor) -> tf.Tensor:
    """Validated single-image `ldr` [B, H, W, 3] with its static shape restored."""
    checked = validate_ldr(ldr, ["batch", "height", "width", "3"])
    return tf.ensure_shape(checked, SINGLE_LDR_SPEC.shape)


def validate_stack(ldr: tf.Tensor, exposure: tf.Tensor):
    """Validated stack `ldr` [B, N, H, W, 3] (N >= 2) and `exposure` [B, N]."""
    ldr = validate_ldr(ldr, ["batch", "frames", "height", "width", "3"])
    ldr_shape = _runtime_shape(ldr)
    frames_ok = _assert(
        ldr_shape[1] >= 2,
        _format(
            "ldr has N={} frames; a stack needs at least 2 exposures", ldr_shape[1]
        ),
    )
    exposure, exp_shape = _check_shape(
        _gate([frames_ok], exposure), "exposure", ["batch", "frames"], channels=None
    )
    batch_ok = _assert(
        tf.equal(exp_shape[0], ldr_shape[0]),
        _format(
            "exposure has B={} rows but ldr has B={} stacks", exp_shape[0], ldr_shape[0]
        ),
    )
    count_ok = _assert(
        tf.equal(exp_shape[1], ldr_shape[1]),
        _format(
            "exposure has N={} values but ldr has N={} frames",
            exp_shape[1],
            ldr_shape[1],
        ),
    )
    exposure = _check_finite(_gate([batch_ok, count_ok], exposure), "exposure")
    ldr = tf.ensure_shape(_gate([batch_ok, count_ok], ldr), STACK_LDR_SPEC.shape)
    return ldr, tf.ensure_shape(exposure, EXPOSURE_SPEC.shape)


def _decode_one(encoded: tf.Tensor) -> tf.Tensor:
    """One encoded image -> float32 [H, W, 3] in [0, 1].

    PNGs are decoded at 16 bits (8-bit PNGs scale exactly by 257, so the result equals
    uint8 / 255); other formats go through `tf.io.decode_image` as uint8, because its
    uint16 path scales JPEG values by 256 instead of 257.
    """
    is_png = tf.equal(tf.strings.substr(encoded, 0, len(_PNG_MAGIC)), _PNG_MAGIC)

    def png():
        return tf.io.decode_png(encoded, channels=3, dtype=tf.uint16)

    def other():
        image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
        return tf.cast(image, tf.uint16) * 257

    image = tf.cond(is_png, png, other)
    return tf.image.convert_image_dtype(image, tf.float32)


def decode_images(images: tf.Tensor, layout: list[str]) -> tf.Tensor:
    """Encoded PNG/JPEG strings shaped `layout` -> float32 [*layout, H, W, 3].

    All images of a request must share one height and width.
    """
    images, shape = _check_shape(images, "images", layout, channels=None)
    flat = tf.reshape(images, [-1])
    count = tf.size(flat)
    decoded = tf.TensorArray(
        tf.float32,
        size=count,
        infer_shape=False,
        element_shape=tf.TensorShape([None, None, 3]),
    )
    sizes = tf.TensorArray(tf.int32, size=count, element_shape=tf.TensorShape([2]))

    def body(i, decoded, sizes):
        image = _decode_one(flat[i])
        return i + 1, decoded.write(i, image), sizes.write(i, tf.shape(image)[:2])

    _, decoded, sizes = tf.while_loop(
        lambda i, *_: i < count, body, (tf.constant(0), decoded, sizes)
    )
    sizes = sizes.stack()
    differs = tf.reduce_any(tf.not_equal(sizes, sizes[0]), axis=1)
    first_odd = tf.argmax(tf.cast(differs, tf.int32), output_type=tf.int32)
    same_size = _assert(
        tf.logical_not(tf.reduce_any(differs)),
        _format(
            "images must all share one size: image 0 is {} [height width] but "
            "image {} is {}",
            sizes[0],
            first_odd,
            sizes[first_odd],
        ),
    )
    with tf.control_dependencies([same_size]):
        stacked = decoded.stack()
    return tf.reshape(stacked, tf.concat([shape, tf.shape(stacked)[1:]], axis=0))


def _outputs(hdr) -> dict[str, tf.Tensor]:
    if not tf.is_tensor(hdr):
        raise TypeError(
            "the exported model must return one tensor (linear HDR [B, H, W, 3]), "
            f"got {type(hdr).__name__}"
        )
    hdr = tf.cast(hdr, tf.float32)
    return {"hdr": hdr, "tonemapped": display_tonemap(hdr)}


def serving_functions(model, input_kind: str) -> dict[str, tuple[Callable, list]]:
    """Endpoint name -> (function, input signature) for `input_kind` single|stack.

    single: serving_default(ldr [B,H,W,3]), serving_bytes(images string [B]).
    stack: serving_default(ldr [B,N,H,W,3], exposure [B,N]),
           serving_bytes(images string [B,N], exposure [B,N]).
    All return {"hdr": linear radiance [B,H,W,3], "tonemapped": see
    `hdr_keras.ops.tonemap.display_tonemap`}.
    """
    if input_kind == SINGLE:

        def single(ldr):
            return _outputs(model(validate_single(ldr), training=False))

        def single_bytes(images):
            return single(decode_images(images, ["batch"]))

        return {
            "serving_default": (single, [SINGLE_LDR_SPEC]),
            "serving_bytes": (single_bytes, [SINGLE_IMAGES_SPEC]),
        }
    if input_kind == STACK:

        def stack(ldr, exposure):
            ldr, exposure = validate_stack(ldr, exposure)
            return _outputs(model({"ldr": ldr, "exposure": exposure}, training=False))

        def stack_bytes(images, exposure):
            return stack(decode_images(images, ["batch", "frames"]), exposure)

        return {
            "serving_default": (stack, [STACK_LDR_SPEC, EXPOSURE_SPEC]),
            "serving_bytes": (stack_bytes, [STACK_IMAGES_SPEC, EXPOSURE_SPEC]),
        }
    raise ValueError(f"input_kind must be 'single' or 'stack', got {input_kind!r}")
