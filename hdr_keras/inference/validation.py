"""Run-time validation of model inputs, shared by the serving signatures and the
Keras backend of `hdr_keras.inference` (so a `.keras` file and its SavedModel reject
the same inputs with the same messages).

Every function here runs inside a traced graph (TF ops only, no Python control flow
on tensors). Two facts shape the validation code:

- A signature loaded with `tf.saved_model.load`, or served by TF Serving, does NOT
  enforce its input spec: a rank-3 tensor reaches a `[None, None, None, 3]` signature.
- Checks on `tf.rank`/`tf.shape` are folded away: at trace time (static shape known)
  and again by the graph optimizer at run time, which trusts the declared argument
  shapes. So every shape check here reads the run-time shape through `runtime_shape`,
  which the optimizer cannot see through, and each stage of checks gates the next with
  control dependencies so that e.g. a rank-0 tensor never reaches a slicing op.

A failed check raises `tf.errors.InvalidArgumentError` (gRPC INVALID_ARGUMENT) whose
message starts with "assertion failed: [<readable text naming the input>]".
"""

from __future__ import annotations

import tensorflow as tf

# LDR values are display-referred in [0, 1]; allow this much rounding slack.
LDR_TOLERANCE = 1e-3

SINGLE_LDR_SPEC = tf.TensorSpec([None, None, None, 3], tf.float32, name="ldr")
STACK_LDR_SPEC = tf.TensorSpec([None, None, None, None, 3], tf.float32, name="ldr")
EXPOSURE_SPEC = tf.TensorSpec([None, None], tf.float32, name="exposure")


def runtime_shape(x: tf.Tensor) -> tf.Tensor:
    """Run-time shape of `x` (int32 vector) with no static shape or value attached.

    The serialize/parse round trip hides the shape from constant folding, so that
    `tf.size(...)` (the rank) and slices of it are evaluated on the real input.
    """
    shape = tf.shape(x, out_type=tf.int32)
    return tf.io.parse_tensor(tf.io.serialize_tensor(shape), out_type=tf.int32)


def runtime_assert(condition: tf.Tensor, message) -> tf.Operation:
    """A run-time assertion whose error text is `message` (str or scalar string)."""
    return tf.debugging.Assert(condition, [message])


def gate(checks: list, *tensors: tf.Tensor):
    """Identity copies of `tensors` that only exist once every op in `checks` ran."""
    with tf.control_dependencies(checks):
        gated = tuple(tf.identity(t) for t in tensors)
    return gated if len(gated) > 1 else gated[0]


def format_message(template: str, *values: tf.Tensor) -> tf.Tensor:
    """`template` with its {} filled by the tensors' values (all elements)."""
    return tf.strings.format(template, values, summarize=-1)


def check_shape(x: tf.Tensor, name: str, layout: list[str], channels: int | None):
    """Checks rank, channel count and non-emptiness; returns (gated x, gated shape)."""
    shape = runtime_shape(x)
    rank = len(layout)
    rank_ok = runtime_assert(
        tf.equal(tf.size(shape), rank),
        f"{name} must be rank {rank} [{', '.join(layout)}]",
    )
    shape = gate([rank_ok], shape)
    checks = []
    if channels is not None:
        checks.append(
            runtime_assert(
                tf.equal(shape[-1], channels),
                format_message(
                    f"{name} must have {channels} channels (RGB) in its last "
                    "dimension, got {}",
                    shape[-1],
                ),
            )
        )
    checks.append(
        runtime_assert(
            tf.reduce_all(shape > 0),
            format_message(
                f"{name} is empty: every dimension must be > 0, got shape {{}}", shape
            ),
        )
    )
    return gate(checks, x, shape)


def check_finite(x: tf.Tensor, name: str) -> tf.Tensor:
    ok = runtime_assert(
        tf.reduce_all(tf.math.is_finite(x)), f"{name} contains NaN or Inf"
    )
    return gate([ok], x)


def check_min_size(
    x: tf.Tensor, shape: tf.Tensor, name: str, height_axis: int, min_size: int
) -> tf.Tensor:
    """Gated `x`, checked to be at least `min_size` pixels high and wide."""
    if min_size <= 1:
        return x
    size = shape[height_axis : height_axis + 2]
    ok = runtime_assert(
        tf.reduce_all(size >= min_size),
        format_message(
            f"{name} is {{}} [height width] pixels but this model needs at least "
            f"{min_size}x{min_size}: pad or enlarge the image",
            size,
        ),
    )
    return gate([ok], x)


def validate_ldr(ldr: tf.Tensor, layout: list[str], min_size: int = 1) -> tf.Tensor:
    """Validated `ldr`: rank len(layout), 3 channels, non-empty, at least
    `min_size` x `min_size` pixels, finite, in [0, 1]."""
    checked, shape = check_shape(ldr, "ldr", layout, channels=3)
    checked = check_min_size(checked, shape, "ldr", len(layout) - 3, min_size)
    checked = check_finite(checked, "ldr")
    low, high = tf.reduce_min(checked), tf.reduce_max(checked)
    in_range = runtime_assert(
        tf.logical_and(low >= -LDR_TOLERANCE, high <= 1.0 + LDR_TOLERANCE),
        format_message(
            f"ldr values must lie in [0, 1] (tolerance {LDR_TOLERANCE:g}), "
            "got min={} max={}",
            low,
            high,
        ),
    )
    return gate([in_range], checked)


def validate_single(ldr: tf.Tensor, min_size: int = 1) -> tf.Tensor:
    """Validated single-image `ldr` [B, H, W, 3] with its static shape restored."""
    checked = validate_ldr(ldr, ["batch", "height", "width", "3"], min_size)
    return tf.ensure_shape(checked, SINGLE_LDR_SPEC.shape)


def validate_stack(ldr: tf.Tensor, exposure: tf.Tensor, min_size: int = 1):
    """Validated stack `ldr` [B, N, H, W, 3] (N >= 2) and `exposure` [B, N]."""
    ldr = validate_ldr(ldr, ["batch", "frames", "height", "width", "3"], min_size)
    ldr_shape = runtime_shape(ldr)
    frames_ok = runtime_assert(
        ldr_shape[1] >= 2,
        format_message(
            "ldr has N={} frames; a stack needs at least 2 exposures", ldr_shape[1]
        ),
    )
    exposure, exp_shape = check_shape(
        gate([frames_ok], exposure), "exposure", ["batch", "frames"], channels=None
    )
    batch_ok = runtime_assert(
        tf.equal(exp_shape[0], ldr_shape[0]),
        format_message(
            "exposure has B={} rows but ldr has B={} stacks", exp_shape[0], ldr_shape[0]
        ),
    )
    count_ok = runtime_assert(
        tf.equal(exp_shape[1], ldr_shape[1]),
        format_message(
            "exposure has N={} values but ldr has N={} frames",
            exp_shape[1],
            ldr_shape[1],
        ),
    )
    exposure = check_finite(gate([batch_ok, count_ok], exposure), "exposure")
    ldr = tf.ensure_shape(gate([batch_ok, count_ok], ldr), STACK_LDR_SPEC.shape)
    return ldr, tf.ensure_shape(exposure, EXPOSURE_SPEC.shape)
