"""Kalantari & Ramamoorthi (SIGGRAPH 2017): optical-flow alignment + CNN merge.

The non-reference frames are aligned to the reference with optical flow
(`FlowAlignment`); a small CNN reads the aligned stack's concat(Z_i, H_i)
features (18 channels for 3 frames, `StackFeatures`) and merges them (METHODS.md §1):

    conv 7x7 18->100, ReLU; conv 5x5 100->100, ReLU; conv 3x3 100->50, ReLU;
    conv 1x1 50->K, sigmoid

in three variants:
- "direct" (K = 3): the sigmoid output is the linear HDR image. 383,603 parameters.
- "we" (weight estimator, K = 9): blending weights a_i per frame and channel,
  H = sum_i a_i H_i / (sum_i a_i + 1e-6) (`WeightBlending`). 383,909 parameters.
- "wie" (weight and image estimator, K = 18): 9 weights and 9 refined images of
  the aligned frames, predicted in the LDR domain (sigmoid), linearised like the
  inputs and blended as WE. 384,368 parameters. The 1x1 output convolution is built
  as two layers, "output" (the 9 weights) and "refine" (the 9 refined images): the
  same function and parameters as one 50->18 convolution, and the refined images
  are a layer output for the first training stage (`refined_images_model`).

Padding: the authors' convolutions are unpadded ("valid", the default): the network
output is 6 pixels smaller on each side than its input, and the training target is
cropped to match (`hdr_keras.methods.kalantari.losses.CroppedL2Loss`). padding="same" zero-pads every convolution
instead (the output keeps the input size).

Models. `build_kalantari` returns the serving model: raw brackets {"ldr", "exposure"}
of any H, W -> FlowAlignment -> (valid padding only) reflect padding by 6 pixels ->
network -> linear HDR of the input's size. Training uses stacks aligned once when
the TFRecords were written: `training_model(model)` is the same network (shared
layers) without alignment and padding, and is the registry's loss view.

Initialisation as the authors': uniform +-sqrt(3 / (k * k * in)) (Keras
VarianceScaling(1, "fan_in", "uniform")), zero biases.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from hdr_keras.layers.stack_features import SelectFrame, StackFeatures
from hdr_keras.methods.kalantari.flow_alignment import FlowAlignment
from hdr_keras.methods.kalantari.stack_reflect_pad import StackReflectPad
from hdr_keras.methods.kalantari.weight_blending import WeightBlending
from hdr_keras.ops.stack import check_stack_arguments

VARIANTS = ("direct", "we", "wie")
PADDINGS = ("valid", "same")
STRIDE = 1  # fully convolutional at full resolution
# (kernel size, filters) of the three hidden convolutions.
HIDDEN = ((7, 100), (5, 100), (3, 50))
# Pixels lost per side by the unpadded network: sum of (k - 1) / 2.
BORDER = sum((kernel - 1) // 2 for kernel, _ in HIDDEN)
# Uniform +-sqrt(3 / fan_in): the authors' initialisation.
KALANTARI_INIT = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0, "mode": "fan_in", "distribution": "uniform"},
}
ALIGNMENT_LAYER = "alignment"
PAD_LAYER = "reflect_pad"


def _conv(filters: int, kernel_size: int, activation: str, padding: str, name: str):
    return layers.Conv2D(
        filters,
        kernel_size,
        padding=padding,
        activation=activation,
        kernel_initializer=KALANTARI_INIT,
        bias_initializer="zeros",
        name=name,
    )


def _network_layers(variant: str, num_frames: int, padding: str) -> dict:
    """The named layers of the merge network (built once, applied by `_network`)."""
    named = {
        "stack_features": StackFeatures(name="stack_features"),
        "features": layers.Concatenate(name="features"),
    }
    for i in range(num_frames):
        named[f"frame{i}"] = SelectFrame(i, name=f"frame{i}")
    for level, (kernel, filters) in enumerate(HIDDEN, start=1):
        named[f"conv{level}"] = _conv(filters, kernel, "relu", padding, f"conv{level}")
    channels = 3 * num_frames
    if variant == "direct":
        named["output"] = _conv(3, 1, "sigmoid", padding, "output")
    else:
        named["output"] = _conv(channels, 1, "sigmoid", padding, "output")
        named["blend"] = WeightBlending(num_frames, name="blend")
    if variant == "wie":
        named["refine"] = _conv(channels, 1, "sigmoid", padding, "refine")
    return named


def _network(named: dict, ldr, exposure, num_frames: int):
    """Applies the merge network to an aligned stack; returns (hdr, refined or None)."""
    stack = named["stack_features"]([ldr, exposure])
    x = named["features"]([named[f"frame{i}"](stack) for i in range(num_frames)])
    for level in range(1, len(HIDDEN) + 1):
        x = named[f"conv{level}"](x)
    output = named["output"](x)
    if "blend" not in named:
        return output, None
    refined = named["refine"](x) if "refine" in named else None
    images = ldr if refined is None else refined
    return named["blend"]([output, images, exposure]), refined


def build_kalantari(
    variant: str = "direct",
    num_frames: int = 3,
    reference: int | None = None,
    padding: str = "valid",
    align: bool = True,
    name: str | None = None,
) -> keras.Model:
    """Builds Kalantari's merge network, with the flow alignment in front by default.

    Args:
        variant: "direct", "we" or "wie".
        num_frames: frames per stack N (3 in the paper: 6N = 18 input channels).
        reference: index of the frame the others are aligned to (None: N // 2).
        padding: "valid" (authors' code, output 6 px smaller per side inside the
            network, reflect padding in front so the model keeps the input size)
            or "same" (zero-padded convolutions).
        align: put `FlowAlignment` in front (the serving model); False: the input
            stack must already be aligned.
        name: model name (default "kalantari_<variant>", the registry name).
    Returns:
        A functional model {"ldr": [B, N, H, W, 3] in [0, 1], "exposure": [B, N]
        stops} -> linear HDR [B, H, W, 3], for any H, W (> 6 with valid padding).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    reference = check_stack_arguments(num_frames, reference)
    ldr = keras.Input((num_frames, None, None, 3), name="ldr")
    exposure = keras.Input((num_frames,), name="exposure")
    aligned = ldr
    if align:
        aligned = FlowAlignment(reference=reference, name=ALIGNMENT_LAYER)(
            [ldr, exposure]
        )
    if padding == "valid":
        aligned = StackReflectPad(BORDER, name=PAD_LAYER)(aligned)
    named = _network_layers(variant, num_frames, padding)
    hdr, _ = _network(named, aligned, exposure, num_frames)
    return keras.Model(
        {"ldr": ldr, "exposure": exposure}, hdr, name=name or f"kalantari_{variant}"
    )


def build_kalantari_direct(**kwargs) -> keras.Model:
    """Kalantari's direct variant (383,603 parameters); kwargs of `build_kalantari`."""
    return build_kalantari("direct", **kwargs)


def build_kalantari_we(**kwargs) -> keras.Model:
    """Kalantari's weight estimator (383,909 parameters)."""
    return build_kalantari("we", **kwargs)


def build_kalantari_wie(**kwargs) -> keras.Model:
    """Kalantari's weight and image estimator (384,368 parameters)."""
    return build_kalantari("wie", **kwargs)


def _named_layers(model: keras.Model) -> tuple[dict, int]:
    """The merge network's layers of a built or loaded Kalantari model, and N."""
    names = {layer.name for layer in model.layers}
    num_frames = sum(1 for n in names if n.startswith("frame") and n[5:].isdigit())
    wanted = ["stack_features", "features", "output"]
    wanted += [f"frame{i}" for i in range(num_frames)]
    wanted += [f"conv{level}" for level in range(1, len(HIDDEN) + 1)]
    wanted += [n for n in ("blend", "refine") if n in names]
    missing = [n for n in wanted if n not in names]
    if missing or num_frames < 2:
        raise ValueError(
            f"model {model.name!r} is not a Kalantari network (missing layers "
            f"{', '.join(missing) or 'frame0, frame1'})"
        )
    return {n: model.get_layer(n) for n in wanted}, num_frames


def _view(model: keras.Model, refined_output: bool) -> keras.Model:
    named, num_frames = _named_layers(model)
    ldr = keras.Input((num_frames, None, None, 3), name="ldr")
    exposure = keras.Input((num_frames,), name="exposure")
    hdr, refined = _network(named, ldr, exposure, num_frames)
    if refined_output and refined is None:
        raise ValueError(
            f"model {model.name!r} predicts no refined images (only the WIE "
            "variant does)"
        )
    output = refined if refined_output else hdr
    return keras.Model({"ldr": ldr, "exposure": exposure}, output, name=model.name)


def training_model(model: keras.Model) -> keras.Model:
    """The network of `model` on pre-aligned stacks: no alignment, no padding.

    Shares the layers (weights) of `model`. With valid padding its output is
    `BORDER` pixels smaller per side than the input; `CroppedL2Loss` crops the
    target to match. This is the registry's loss view of the Kalantari methods.
    """
    return _view(model, refined_output=False)


def refined_images_model(model: keras.Model) -> keras.Model:
    """WIE's refined images [B, h, w, 3N] (LDR domain, frame i in channels 3i..3i+2)
    on pre-aligned stacks: the output of WIE's first training stage."""
    return _view(model, refined_output=True)


def refine_targets(inputs: dict, target):
    """First-stage WIE target: the aligned input frames folded to [B, H, W, 3N].

    `inputs["ldr"]` is a batch [B, N, H, W, 3]; `target` (the HDR label) is unused.
    """
    del target
    ldr = tf.convert_to_tensor(inputs["ldr"])
    shape = tf.shape(ldr)
    folded = tf.transpose(ldr, [0, 2, 3, 1, 4])
    return tf.reshape(folded, tf.stack([shape[0], shape[2], shape[3], shape[1] * 3]))
