"""Wu et al. (ECCV 2018): HDR merging as image translation, without optical flow.

One encoder per frame (weights NOT shared) reads that frame's concat(Z_i, H_i)
features; a merger fuses the concatenated encodings at 1/8 resolution; a decoder with
skip connections to every encoder predicts the HDR image through a tanh
(METHODS.md §2). Two variants:

- `build_wu_resnet`: the authors' TensorFlow code (elliottwu/DeepHDR, model.py):
  5x5 stride-2 convolutions with reflect padding, merger = one more stride-2
  convolution + 9 residual blocks at 1/8 resolution, three 5x5 stride-2
  deconvolutions; total stride 8.
- `build_wu_unet`: the paper's U-Net: the merger keeps downsampling (256, 512
  channels) and mirrored deconvolutions come back up with a skip connection at each
  scale; total stride 16.

Inputs and outputs (both variants):
- The official code feeds values in [-1, 1]: LDR x = 2 Z - 1 and HDR 2 H - 1 with
  H = Z ** 2.2 / 2 ** ev. Here the model takes the raw serving inputs (`ldr` in
  [0, 1], `exposure` in stops), builds concat(Z_i, H_i) with `StackFeatures` and
  rescales both halves with `Rescaling(2, -1)`: exactly the official features.
- The stack is padded (mirror) to a multiple of the stride inside the model and the
  output cropped back, so any H, W > stride work (the deepest reflect-padded 5x5
  convolution needs at least 3 pixels, as in the authors' code).
- Output domain. In the authors' code the tanh output y is the HDR image in [-1, 1]
  (`G_HDR = generator(...)`, loss on `tonemap(G_HDR)`, results saved as .hdr): the
  linear HDR is (y + 1) / 2 and the loss is L2 after mu-law. That is the default,
  output_domain="linear". output_domain="mu_law" reads (y + 1) / 2 as the mu-law
  tonemapped image instead and maps it to linear with `inverse_mu_law`.
  Either way the model's output (layer "hdr") is linear HDR in [0, 1], and
  `tonemapped_model(model)` gives the mu-law tonemapped prediction in [0, 1] that
  the training loss (`MuLawLoss("l2", prediction="mu_law")`) compares with T(target).

Initialisation as in the authors' code: convolutions truncated normal (std 0.02),
deconvolutions normal (std 0.02), zero biases; batch normalisation momentum 0.9
(TF decay), epsilon 1e-5, scale and offset trainable.
"""

from __future__ import annotations

import keras
from keras import layers

from hdr_keras.methods.wu.mu_law import MuLaw
from hdr_keras.layers.padding import CropToMatch, PadToMultiple
from hdr_keras.layers.reflect_conv import ReflectConv2D
from hdr_keras.methods.wu.residual_block import ResidualBlock
from hdr_keras.layers.stack_features import SelectFrame, StackFeatures
from hdr_keras.ops.stack import check_stack_arguments

RESNET_STRIDE = 8  # three stride-2 convolutions before the residual blocks
UNET_STRIDE = 16  # four stride-2 convolutions with the default merger
KERNEL_SIZE = 5
RES_KERNEL_SIZE = 3
LEAKY_SLOPE = 0.2  # the authors' lrelu
BN_MOMENTUM = 0.9  # tf.contrib.layers.batch_norm decay
BN_EPSILON = 1e-5
CONV_INIT = {"class_name": "TruncatedNormal", "config": {"stddev": 0.02}}
DECONV_INIT = {"class_name": "RandomNormal", "config": {"stddev": 0.02}}
OUTPUT_DOMAINS = ("linear", "mu_law")
TONEMAPPED_LAYER = "tonemapped"
HDR_LAYER = "hdr"


def _conv(filters: int, name: str, strides: int = 2) -> ReflectConv2D:
    return ReflectConv2D(
        filters,
        KERNEL_SIZE,
        strides,
        kernel_initializer=CONV_INIT,
        bias_initializer="zeros",
        name=name,
    )


def _deconv(filters: int, name: str) -> layers.Conv2DTranspose:
    return layers.Conv2DTranspose(
        filters,
        KERNEL_SIZE,
        strides=2,
        padding="same",
        kernel_initializer=DECONV_INIT,
        bias_initializer="zeros",
        name=name,
    )


def _batch_norm(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name
    )


def _check_arguments(num_frames: int, reference: int | None, output_domain: str):
    check_stack_arguments(num_frames, reference)
    if output_domain not in OUTPUT_DOMAINS:
        raise ValueError(
            f"output_domain must be one of {OUTPUT_DOMAINS}, got {output_domain!r}"
        )


def _inputs(num_frames: int, stride: int):
    """Model inputs, the per-frame [-1, 1] features padded to `stride`, a reference."""
    ldr = keras.Input((num_frames, None, None, 3), name="ldr")
    exposure = keras.Input((num_frames,), name="exposure")
    stack = StackFeatures(name="stack_features")([ldr, exposure])
    stack = layers.Rescaling(2.0, offset=-1.0, name="to_signed")(stack)
    frames = [SelectFrame(i, name=f"frame{i}")(stack) for i in range(num_frames)]
    padded = [PadToMultiple(stride, name=f"pad{i}")(f) for i, f in enumerate(frames)]
    return {"ldr": ldr, "exposure": exposure}, padded, frames[0]


def _encoders(padded, features: int):
    """Per-frame encoders: (first conv outputs, second conv + BN outputs)."""
    first, second = [], []
    for i, frame in enumerate(padded, start=1):
        e1 = _conv(features, name=f"encoder{i}_conv1")(frame)
        x = layers.LeakyReLU(LEAKY_SLOPE, name=f"encoder{i}_lrelu")(e1)
        x = _conv(2 * features, name=f"encoder{i}_conv2")(x)
        first.append(e1)
        second.append(_batch_norm(f"encoder{i}_bn2")(x))
    return first, second


def _up(x, skips, filters: int, name: str):
    """ReLU -> 5x5 stride-2 deconvolution -> BN, then concat the skip features."""
    x = layers.ReLU(name=f"{name}_relu")(x)
    x = _batch_norm(f"{name}_bn")(_deconv(filters, name=f"{name}_deconv")(x))
    if skips:
        x = layers.Concatenate(name=f"{name}_concat")([x, *skips])
    return x


def _output(x, reference_frame, stride: int, output_domain: str, inputs, name: str):
    """ReLU -> 5x5 conv -> 3, tanh, crop, then map to linear HDR."""
    x = layers.ReLU(name="out_relu")(x)
    x = _conv(3, name="out_conv", strides=1)(x)
    x = layers.Activation("tanh", name="out_tanh")(x)
    x = CropToMatch(stride, name="crop")([x, reference_frame])
    if output_domain == "linear":
        hdr = layers.Rescaling(0.5, offset=0.5, name=HDR_LAYER)(x)
    else:
        x = layers.Rescaling(0.5, offset=0.5, name=TONEMAPPED_LAYER)(x)
        hdr = MuLaw(inverse=True, name=HDR_LAYER)(x)
    return keras.Model(inputs, hdr, name=name)


def build_wu_resnet(
    num_frames: int = 3,
    reference: int | None = None,
    features: int = 64,
    res_blocks: int = 9,
    output_domain: str = "linear",
    name: str = "wu_resnet",
) -> keras.Model:
    """Builds the ResNet variant of Wu et al. (the authors' code).

    Args:
        num_frames: frames per stack N (>= 2), sorted by exposure; one encoder each.
        reference: index of the frame the output is aligned to (None: N // 2). The
            architecture is the same for every reference (unshared encoders learn
            each position's role from the training targets); it is validated here
            and used when aligning backgrounds (`hdr_keras.ops.alignment`).
        features: channels of the first encoder layer (64; then x2, x4).
        res_blocks: residual blocks in the merger (9).
        output_domain: meaning of the tanh output, "linear" (authors' code) or
            "mu_law" (see the module docstring).
        name: model name.
    Returns:
        A functional model {"ldr": [B, N, H, W, 3], "exposure": [B, N]} -> linear
        HDR [B, H, W, 3] in [0, 1] for any H, W > 8 (padded to a multiple of 8).
    """
    _check_arguments(num_frames, reference, output_domain)
    inputs, padded, reference_frame = _inputs(num_frames, RESNET_STRIDE)
    first, second = _encoders(padded, features)

    merged = layers.Concatenate(name="merger_concat")(second)
    x = layers.LeakyReLU(LEAKY_SLOPE, name="merger_lrelu")(merged)
    x = _conv(4 * features, name="merger_conv")(x)
    bottleneck = _batch_norm("merger_bn")(x)
    x = bottleneck
    for b in range(1, res_blocks + 1):
        x = ResidualBlock(
            4 * features,
            RES_KERNEL_SIZE,
            momentum=BN_MOMENTUM,
            epsilon=BN_EPSILON,
            kernel_initializer=CONV_INIT,
            name=f"res_block{b}",
        )(x)
    x = layers.Concatenate(name="decoder_concat")([x, bottleneck])
    x = _up(x, second, 2 * features, name="decoder1")
    x = _up(x, first, features, name="decoder2")
    x = _up(x, [], features, name="decoder3")
    return _output(x, reference_frame, RESNET_STRIDE, output_domain, inputs, name)


def build_wu_unet(
    num_frames: int = 3,
    reference: int | None = None,
    features: int = 64,
    merger_channels: tuple[int, ...] = (256, 512),
    output_domain: str = "linear",
    name: str = "wu_unet",
) -> keras.Model:
    """Builds the U-Net variant of Wu et al. (paper only; no official code).

    Per-frame encoders as in the ResNet variant (features, 2 * features); the merger
    applies LeakyReLU -> 5x5 stride-2 conv -> BN for each width of
    `merger_channels`; the decoder mirrors it: ReLU -> 5x5 stride-2 deconvolution ->
    BN, concatenated with the encoder features of the same scale (merger outputs,
    then all frames' second and first encoder layers), a last deconvolution to full
    resolution with `features` channels, ReLU -> 5x5 conv -> 3 -> tanh.

    Args:
        num_frames, reference, features, output_domain, name: as `build_wu_resnet`.
        merger_channels: widths of the merger's stride-2 convolutions ((256, 512):
            four downsamplings in total, stride 16).
    Returns:
        The functional model, for any H, W > stride = 2 ** (2 +
        len(merger_channels)) (16 by default); H, W are padded to a multiple of
        the stride internally.
    """
    _check_arguments(num_frames, reference, output_domain)
    stride = 2 ** (2 + len(merger_channels))
    inputs, padded, reference_frame = _inputs(num_frames, stride)
    first, second = _encoders(padded, features)

    x = layers.Concatenate(name="merger_concat")(second)
    merger_outputs = []
    for level, channels in enumerate(merger_channels, start=1):
        x = layers.LeakyReLU(LEAKY_SLOPE, name=f"merger{level}_lrelu")(x)
        x = _conv(channels, name=f"merger{level}_conv")(x)
        x = _batch_norm(f"merger{level}_bn")(x)
        merger_outputs.append(x)

    skips = [[m] for m in merger_outputs[:-1]][::-1] + [second, first, []]
    widths = list(merger_channels[:-1])[::-1] + [2 * features, features, features]
    for level, (skip, width) in enumerate(zip(skips, widths), start=1):
        x = _up(x, skip, width, name=f"decoder{level}")
    return _output(x, reference_frame, stride, output_domain, inputs, name)


def tonemapped_model(model: keras.Model) -> keras.Model:
    """The same network with its mu-law tonemapped prediction in [0, 1] as output.

    For output_domain="mu_law" this ends before the inverse mu-law (layer
    "tonemapped"); for "linear" it appends the mu-law tonemapper to the output.
    Weights are shared with `model`.
    """
    try:
        tonemapped = model.get_layer(TONEMAPPED_LAYER).output
    except ValueError:
        tonemapped = MuLaw(name=TONEMAPPED_LAYER)(model.output)
    return keras.Model(model.input, tonemapped, name=model.name)
