"""Serving functions behind the SavedModel signatures: decoding and outputs.

Every function here runs inside the traced serving graph (TF ops only, no Python
control flow on tensors). Input validation (rank, channels, range, NaN; errors as
INVALID_ARGUMENT "assertion failed: [<readable text naming the input>]") is
`hdr_keras.inference.validation`, shared with the Keras backend of the predict CLI.

The smallest image a model runs on (`minimum_size`, e.g. 11 x 11 for a network that
mirror-pads to a multiple of 32) is found at export by running the model on
growing n x n images; smaller images are refused by the validation with a message
naming the input and that minimum, instead of an error from deep inside the model.

With `jit_compile=True` the model call and the outputs (cast, display tonemap) run
as one `tf.function(jit_compile=True)`: XLA compiles them once per concrete input
shape, at the first call of each shape. Decoding and validation stay outside XLA
(string ops, while loops over the batch and assertions are not XLA kernels).
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from hdr_keras.inference.validation import (
    EXPOSURE_SPEC,
    SINGLE_LDR_SPEC,
    STACK_LDR_SPEC,
    check_shape,
    format_message,
    runtime_assert,
    validate_single,
    validate_stack,
)
from hdr_keras.ops.tonemap import display_tonemap
from hdr_keras.spec import SINGLE, STACK

# Signature of an 8-byte PNG file header: PNGs decode losslessly at 16 bits.
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SINGLE_IMAGES_SPEC = tf.TensorSpec([None], tf.string, name="images")
STACK_IMAGES_SPEC = tf.TensorSpec([None, None], tf.string, name="images")


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
    images, shape = check_shape(images, "images", layout, channels=None)
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
    same_size = runtime_assert(
        tf.logical_not(tf.reduce_any(differs)),
        format_message(
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


# Sides tried by `minimum_size`; a model needing more is not size-checked.
MAX_PROBED_SIDE = 64


def minimum_size(model, input_kind: str) -> int:
    """Smallest n such that `model` runs on n x n images (1 when any size works).

    Padding needs (mirror/reflect padding cannot pad more than the image holds)
    grow with the stride, not with the image, so every size from n up works; the
    height and width are padded independently, so n bounds each of them.
    """
    for side in range(1, MAX_PROBED_SIDE + 1):
        ldr = tf.fill([1, side, side, 3], 0.5)
        try:
            if input_kind == STACK:
                frames = tf.stack([ldr] * 3, axis=1)
                exposure = tf.constant([[0.0, 2.0, 4.0]])
                model({"ldr": frames, "exposure": exposure}, training=False)
            else:
                model(ldr, training=False)
        except (tf.errors.InvalidArgumentError, ValueError):
            continue
        return side
    return 1


def model_forward(model, input_kind: str, jit_compile: bool = False) -> Callable:
    """The served computation after validation: inputs -> {"hdr", "tonemapped"}.

    single: forward(ldr); stack: forward(ldr, exposure). With `jit_compile` it is a
    `tf.function(jit_compile=True)` (XLA, compiled per input shape); otherwise a
    plain Python function traced into the caller's graph.
    """
    if input_kind == SINGLE:

        def forward(ldr):
            return _outputs(model(ldr, training=False))

    elif input_kind == STACK:

        def forward(ldr, exposure):
            return _outputs(model({"ldr": ldr, "exposure": exposure}, training=False))

    else:
        raise ValueError(f"input_kind must be 'single' or 'stack', got {input_kind!r}")
    if jit_compile:
        return tf.function(forward, jit_compile=True, autograph=False)
    return forward


def serving_functions(
    model, input_kind: str, jit_compile: bool = False
) -> dict[str, tuple[Callable, list]]:
    """Endpoint name -> (function, input signature) for `input_kind` single|stack.

    single: serving_default(ldr [B,H,W,3]), serving_bytes(images string [B]).
    stack: serving_default(ldr [B,N,H,W,3], exposure [B,N]),
           serving_bytes(images string [B,N], exposure [B,N]).
    All return {"hdr": linear radiance [B,H,W,3], "tonemapped": see
    `hdr_keras.ops.tonemap.display_tonemap`}. Images smaller than
    `minimum_size(model)` are refused (INVALID_ARGUMENT naming `ldr`).
    `jit_compile`: the model and outputs run under XLA (`model_forward`).
    """
    if input_kind not in (SINGLE, STACK):
        raise ValueError(f"input_kind must be 'single' or 'stack', got {input_kind!r}")
    min_size = minimum_size(model, input_kind)
    forward = model_forward(model, input_kind, jit_compile)
    if input_kind == SINGLE:

        def single(ldr):
            return forward(validate_single(ldr, min_size))

        def single_bytes(images):
            return single(decode_images(images, ["batch"]))

        return {
            "serving_default": (single, [SINGLE_LDR_SPEC]),
            "serving_bytes": (single_bytes, [SINGLE_IMAGES_SPEC]),
        }
    if input_kind == STACK:

        def stack(ldr, exposure):
            return forward(*validate_stack(ldr, exposure, min_size))

        def stack_bytes(images, exposure):
            return stack(decode_images(images, ["batch", "frames"]), exposure)

        return {
            "serving_default": (stack, [STACK_LDR_SPEC, EXPOSURE_SPEC]),
            "serving_bytes": (stack_bytes, [STACK_IMAGES_SPEC, EXPOSURE_SPEC]),
        }
    raise ValueError(f"input_kind must be 'single' or 'stack', got {input_kind!r}")
