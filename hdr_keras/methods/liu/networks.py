"""The four sub-networks of SingleHDR (Liu et al., CVPR 2020), as Keras models.

Each reverses one step of the camera pipeline clip(H t) -> CRF -> 8-bit
(METHODS.md §5); layer choices follow the authors' TF1 code where it differs from
the paper:
- `build_dequantization`: U-Net 16/32/64/128/256 (LeakyReLU 0.1), tanh residual
  added to the input, clipped to [0, 1]. LDR [0, 1] -> dequantised LDR C.
- `build_linearization`: image + Sobel (6) + soft histograms 4/8/16 bins (93) =
  102 channels -> ResNet-50 bottlenecks up to res3b -> global average -> dense K
  PCA weights -> monotone inverse curve [B, 1024] (the paper says ResNet-18; the
  code uses this truncated ResNet-50, with slim's BN: decay 0.999, eps 1e-3).
- `build_hallucination`: HDRCNN-shaped VGG16 encoder-decoder on the linearised
  image B whose decoder upsamples by nearest x2 + reflect pad + 3x3 conv (ReLU) +
  BN + ReLU, skips scaled x/255 (no log), and whose output y gives
  A = B + alpha relu(y) (`HighlightResidual`, tau 0.88 as the code).
- `build_refinement`: U-Net 16/32/64/128/128 on concat(A, B, C) (9 channels),
  output relu(A + residual).
The U-Nets and the VGG16 network pad their input to their stride (16, 32) and crop
back, so each sub-network also runs alone on any size >= half its stride.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from hdr_keras.constants import (
    CRF_NUM_COMPONENTS,
    TENSORLAYER_BN_EPSILON,
    TENSORLAYER_BN_MOMENTUM,
)
from hdr_keras.layers.initializers import AdditiveFusion
from hdr_keras.layers.padding import CropToMatch, PadToMultiple
from hdr_keras.layers.reflect_conv import ReflectConv2D
from hdr_keras.layers.vgg_preprocess import VGGPreprocess
from hdr_keras.methods.liu.bilinear_upsample import BilinearUpsample2x
from hdr_keras.methods.liu.constants import LIU_TAU
from hdr_keras.methods.liu.highlight_residual import HighlightResidual
from hdr_keras.methods.liu.inverse_curve import MonotoneInverseCurve
from hdr_keras.methods.liu.sobel import SobelEdges
from hdr_keras.methods.liu.soft_histogram import SoftHistogram
from hdr_keras.ops.crf import CurveBasis, default_basis
from hdr_keras.vgg16 import load_vgg16_weights, vgg16_encoder

# HDRCNN's BatchNormLayer (TensorLayer) defaults, as the Hallucination-Net's code.
BN_MOMENTUM = TENSORLAYER_BN_MOMENTUM
BN_EPSILON = TENSORLAYER_BN_EPSILON

# U-Nets: widths of the two full-resolution convs and of the four down blocks.
DEQUANTIZATION_CHANNELS = (16, 32, 64, 128, 256)
REFINEMENT_CHANNELS = (16, 32, 64, 128, 128)
UNET_DOWN_KERNELS = (5, 3, 3, 3)  # kernel of each down block (the first convs: 7)
UNET_STRIDE = 16  # four 2x2 average pools
LEAKY_SLOPE = 0.1
# Linearization-Net: soft-histogram bin counts and the ResNet-50 stages kept.
HISTOGRAM_BINS = (4, 8, 16)
RESNET_STAGES = (  # (name, blocks, bottleneck width, output width, first stride)
    ("res2", 3, 64, 256, 1),
    ("res3", 2, 128, 512, 2),
)
SLIM_BN_MOMENTUM = 0.999  # tf.contrib.slim.batch_norm defaults
SLIM_BN_EPSILON = 1e-3
# Hallucination-Net decoder widths (coarsest first), as HDRCNN's.
HALLUCINATION_DECODER = (512, 512, 256, 128, 64)
VGG_STRIDE = 32


def _leaky_conv(x, channels: int, kernel: int, name: str):
    x = layers.Conv2D(channels, kernel, padding="same", name=f"{name}_conv")(x)
    return layers.LeakyReLU(LEAKY_SLOPE, name=f"{name}_lrelu")(x)


def _unet(x, channels: tuple[int, ...], prefix: str):
    """The official U-Net body (up to, not including, its output convolution)."""
    x = _leaky_conv(x, channels[0], 7, f"{prefix}_in1")
    skips = [_leaky_conv(x, channels[0], 7, f"{prefix}_in2")]
    x = skips[0]
    for level, (width, kernel) in enumerate(
        zip(channels[1:], UNET_DOWN_KERNELS), start=1
    ):
        x = layers.AveragePooling2D(2, name=f"{prefix}_down{level}_pool")(x)
        x = _leaky_conv(x, width, kernel, f"{prefix}_down{level}a")
        x = _leaky_conv(x, width, kernel, f"{prefix}_down{level}b")
        skips.append(x)
    skips.pop()  # the bottom of the U has no skip
    for level, skip in enumerate(reversed(skips), start=1):
        width = skip.shape[-1]
        x = BilinearUpsample2x(name=f"{prefix}_up{level}_resize")(x)
        x = _leaky_conv(x, width, 3, f"{prefix}_up{level}a")
        x = layers.Concatenate(name=f"{prefix}_up{level}_concat")([x, skip])
        x = _leaky_conv(x, width, 3, f"{prefix}_up{level}b")
    return x


def build_dequantization(name: str = "dequantization") -> keras.Model:
    """Dequantization-Net: LDR [B, H, W, 3] in [0, 1] -> clip(LDR + tanh(net), 0, 1)."""
    ldr = keras.Input((None, None, 3), name="ldr")
    padded = PadToMultiple(UNET_STRIDE, name="deq_pad")(ldr)
    x = _unet(padded, DEQUANTIZATION_CHANNELS, "deq")
    x = layers.Conv2D(3, 3, padding="same", activation="tanh", name="deq_out_conv")(x)
    x = CropToMatch(UNET_STRIDE, name="deq_crop")([x, ldr])
    x = layers.Add(name="deq_residual")([ldr, x])
    dequantized = layers.ReLU(max_value=1.0, name="deq_clip")(x)  # clip to [0, 1]
    return keras.Model(ldr, dequantized, name=name)


def _bn(name: str, momentum: float, epsilon: float) -> layers.BatchNormalization:
    return layers.BatchNormalization(momentum=momentum, epsilon=epsilon, name=name)


def _slim_bn(name: str) -> layers.BatchNormalization:
    return _bn(name, SLIM_BN_MOMENTUM, SLIM_BN_EPSILON)


def _bottleneck(x, name: str, width: int, out: int, stride: int, project: bool):
    """ResNet-50 bottleneck (Caffe naming): 1x1 -> 3x3 -> 1x1, bias-free convs."""

    def conv_bn(y, channels, kernel, strides, branch, relu):
        y = layers.Conv2D(
            channels,
            kernel,
            strides=strides,
            padding="same",
            use_bias=False,
            name=f"{name}_branch{branch}",
        )(y)
        y = _slim_bn(f"bn{name[3:]}_branch{branch}")(y)
        return layers.ReLU(name=f"{name}_branch{branch}_relu")(y) if relu else y

    shortcut = conv_bn(x, out, 1, stride, "1", False) if project else x
    y = conv_bn(x, width, 1, stride, "2a", True)
    y = conv_bn(y, width, 3, 1, "2b", True)
    y = conv_bn(y, out, 1, 1, "2c", False)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_relu")(y)


def linearization_features(image):
    """102-channel input of the Linearization-Net: image, Sobel, soft histograms."""
    parts = [image, SobelEdges(name="sobel")(image)]
    parts += [
        SoftHistogram(bins, name=f"histogram{bins}")(image) for bins in HISTOGRAM_BINS
    ]
    return layers.Concatenate(name="features")(parts)


def build_linearization(
    basis: CurveBasis | None = None,
    num_components: int = CRF_NUM_COMPONENTS,
    name: str = "linearization",
) -> keras.Model:
    """Linearization-Net: image [B, H, W, 3] in [0, 1] -> inverse curve [B, 1024].

    Args:
        basis: inverse-CRF PCA basis (`hdr_keras.ops.crf`); None: `default_basis()`
            (EMoR from $HDR_KERAS_EMOR_DIR, else the built-in basis).
        num_components: K PCA weights predicted (11 as the official code).
    """
    basis = default_basis(num_components=num_components) if basis is None else basis
    image = keras.Input((None, None, 3), name="image")
    x = linearization_features(image)
    x = layers.Conv2D(64, 7, strides=2, padding="same", name="conv1")(x)
    x = _slim_bn("bn_conv1")(x)
    x = layers.ReLU(name="conv1_relu")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    for stage, blocks, width, out, stride in RESNET_STAGES:
        for block in range(blocks):
            x = _bottleneck(
                x,
                f"{stage}{'abcdef'[block]}",
                width,
                out,
                stride if block == 0 else 1,
                project=block == 0,
            )
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    weights = layers.Dense(num_components, name="pca_weights")(x)
    curve = MonotoneInverseCurve(num_components, basis=basis, name="inverse_crf")(
        weights
    )
    return keras.Model(image, curve, name=name)


def _decoder_block(x, channels: int, name: str):
    """Nearest x2, reflect pad 1, 3x3 conv (ReLU, as the code), BN, ReLU."""
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_upsample")(x)
    x = ReflectConv2D(
        channels,
        3,
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        name=f"{name}_conv",
    )(x)
    x = layers.ReLU(name=f"{name}_conv_relu")(x)
    x = _bn(f"{name}_bn", BN_MOMENTUM, BN_EPSILON)(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _fuse_skip(decoder, skip, name: str, scale: float):
    """concat(decoder, skip * scale) -> 1x1 conv initialised as their sum."""
    skip = layers.Rescaling(scale, name=f"{name}_scale")(skip)
    merged = layers.Concatenate(name=f"{name}_concat")([decoder, skip])
    return layers.Conv2D(
        decoder.shape[-1],
        1,
        kernel_initializer=AdditiveFusion(),
        bias_initializer="zeros",
        name=f"{name}_fuse",
    )(merged)


def build_hallucination(
    vgg_weights: str | Path | None = None,
    tau: float = LIU_TAU,
    name: str = "hallucination",
) -> keras.Model:
    """Hallucination-Net: linear B [B, H, W, 3] in [0, 1] -> A = B + alpha relu(y).

    Args:
        vgg_weights: optional local Keras VGG16 (include_top=False) weights file for
            the encoder (as `hdr_keras.vgg16.load_vgg16_weights`); never downloaded.
        tau: mask threshold (0.88 as the code; LIU_TAU_PAPER = 0.95 the paper).
    """
    linear = keras.Input((None, None, 3), name="linear")
    padded = PadToMultiple(VGG_STRIDE, name="hal_pad")(linear)
    x, before_pool = vgg16_encoder(VGGPreprocess(name="vgg_preprocess")(padded))
    x = layers.Conv2D(
        512,
        3,
        padding="same",
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        name="latent_conv",
    )(x)
    x = _bn("latent_bn", BN_MOMENTUM, BN_EPSILON)(x)
    x = layers.ReLU(name="latent_relu")(x)
    for level, (channels, skip) in enumerate(
        zip(HALLUCINATION_DECODER, reversed(before_pool)), start=1
    ):
        x = _decoder_block(x, channels, f"decoder{level}")
        x = _fuse_skip(x, skip, f"skip{level}", 1.0 / 255.0)
    x = layers.Conv2D(
        3,
        1,
        kernel_initializer="glorot_normal",
        bias_initializer="zeros",
        name="output_conv",
    )(x)
    x = _bn("output_bn", BN_MOMENTUM, BN_EPSILON)(x)
    x = layers.ReLU(name="output_relu")(x)
    # The input skip: the official encoder input is 255 x, scaled back by 1/255.
    residual = _fuse_skip(x, padded, "skip_input", 1.0)
    residual = CropToMatch(VGG_STRIDE, name="hal_crop")([residual, linear])
    hallucinated = HighlightResidual(tau, name="highlight_residual")([linear, residual])
    model = keras.Model(linear, hallucinated, name=name)
    if vgg_weights is not None:
        load_vgg16_weights(model, vgg_weights)
    return model


def build_refinement(name: str = "refinement") -> keras.Model:
    """Refinement-Net: (A, B, C) -> relu(A + U-Net(concat(A, B, C)))."""
    hallucinated = keras.Input((None, None, 3), name="hallucinated")
    linear = keras.Input((None, None, 3), name="linear")
    dequantized = keras.Input((None, None, 3), name="dequantized")
    x = layers.Concatenate(name="ref_concat")([hallucinated, linear, dequantized])
    padded = PadToMultiple(UNET_STRIDE, name="ref_pad")(x)
    x = _unet(padded, REFINEMENT_CHANNELS, "ref")
    x = layers.Conv2D(3, 3, padding="same", name="ref_out_conv")(x)
    x = CropToMatch(UNET_STRIDE, name="ref_crop")([x, hallucinated])
    x = layers.Add(name="ref_residual")([hallucinated, x])
    refined = layers.ReLU(name="ref_relu")(x)
    return keras.Model([hallucinated, linear, dequantized], refined, name=name)
