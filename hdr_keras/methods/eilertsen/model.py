"""HDRCNN: single-image HDR reconstruction by Eilertsen et al. (SIGGRAPH Asia 2017).

A VGG16 encoder (conv1_1..conv5_3 with five max-pools) reads the LDR image; a
decoder of five bilinear-initialised 4x4 transposed convolutions predicts log
radiance; every scale receives the encoder activation through the log-domain
transform, fused by a 1x1 convolution initialised as addition; the output is
blended with the linearised input where the input is not saturated (METHODS.md §4).

The network predicts the log-HDR `log_hdr` (the layer of that name); the model's
output is the blended linear HDR. `log_hdr_model(model)` exposes the log output for
the training losses, which the paper applies before blending.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from hdr_keras.constants import TENSORLAYER_BN_EPSILON, TENSORLAYER_BN_MOMENTUM
from hdr_keras.layers.initializers import AdditiveFusion, BilinearUpsampling
from hdr_keras.layers.padding import CropToMatch, PadToMultiple
from hdr_keras.layers.vgg_preprocess import VGGPreprocess
from hdr_keras.methods.eilertsen.highlight_blend import HighlightBlend
from hdr_keras.methods.eilertsen.log_domain_transform import LogDomainTransform
from hdr_keras.vgg16 import (  # noqa: F401  (VGG16_BLOCKS, vgg16_layer_names: API)
    VGG16_BLOCKS,
    load_vgg16_weights,
    vgg16_encoder,
    vgg16_layer_names,
)

STRIDE = 32  # five 2x2 max-pools
# Decoder deconvolution widths, from the coarsest scale to full resolution.
DECODER_CHANNELS = (512, 512, 256, 128, 64)
# TensorLayer's BatchNormLayer defaults, used by the authors' code.
BN_MOMENTUM = TENSORLAYER_BN_MOMENTUM
BN_EPSILON = TENSORLAYER_BN_EPSILON
LOG_HDR_LAYER = "log_hdr"


def _batch_norm(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name
    )


def _fuse_skip(decoder, encoder_activation, name: str, scale: float):
    """Concat(decoder, log-domain(encoder)) -> 1x1 conv initialised as their sum."""
    skip = LogDomainTransform(scale=scale, name=f"{name}_log_domain")(
        encoder_activation
    )
    merged = layers.Concatenate(name=f"{name}_concat")([decoder, skip])
    return layers.Conv2D(
        decoder.shape[-1],
        1,
        kernel_initializer=AdditiveFusion(),
        bias_initializer="zeros",
        name=f"{name}_fuse",
    )(merged)


def _upsample(x, channels: int, name: str):
    """4x4 stride-2 transposed conv (bilinear init) + BN + ReLU."""
    x = layers.Conv2DTranspose(
        channels,
        4,
        strides=2,
        padding="same",
        kernel_initializer=BilinearUpsampling(),
        bias_initializer="zeros",
        name=f"{name}_deconv",
    )(x)
    x = _batch_norm(f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_eilertsen(
    vgg_weights: str | Path | None = None,
    tau: float | None = None,
    name: str = "eilertsen",
) -> keras.Model:
    """Builds HDRCNN for inputs `ldr` [B, H, W, 3] in [0, 1] (RGB, display-referred).

    Args:
        vgg_weights: optional local file of Keras VGG16 weights (for example the
            ImageNet `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5` or a
            `.weights.h5` of `keras.applications.VGG16(include_top=False)`); the
            encoder starts from them. None: random initialisation. Never downloaded.
        tau: blend threshold (default HDRCNN_TAU = 0.95).
        name: model name.
    Returns:
        A functional model mapping `ldr` to linear HDR radiance [B, H, W, 3] for any
        H, W >= 16 (padded internally to a multiple of 32 and cropped back).
    """
    ldr = keras.Input((None, None, 3), name="ldr")
    padded = PadToMultiple(STRIDE, name="pad")(ldr)
    vgg_input = VGGPreprocess(name="vgg_preprocess")(padded)
    x, before_pool = vgg16_encoder(vgg_input)

    x = layers.Conv2D(
        512,
        3,
        padding="same",
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        name="latent_conv",
    )(x)
    x = _batch_norm("latent_bn")(x)
    x = layers.ReLU(name="latent_relu")(x)

    skips = list(reversed(before_pool))  # block5_conv3 ... block1_conv2
    for level, channels in enumerate(DECODER_CHANNELS, start=1):
        x = _upsample(x, channels, name=f"decoder{level}")
        x = _fuse_skip(x, skips[level - 1], name=f"skip{level}", scale=1.0 / 255.0)

    x = layers.Conv2D(
        3,
        1,
        kernel_initializer="glorot_normal",
        bias_initializer="zeros",
        name="output_conv",
    )(x)
    x = _batch_norm("output_bn")(x)
    x = layers.ReLU(name="output_relu")(x)
    log_hdr = _fuse_skip(x, padded, name="skip_input", scale=1.0)
    log_hdr = CropToMatch(STRIDE, name=LOG_HDR_LAYER)([log_hdr, ldr])

    blend_args = {} if tau is None else {"tau": tau}
    hdr = HighlightBlend(name="hdr", **blend_args)([ldr, log_hdr])
    model = keras.Model(ldr, hdr, name=name)
    if vgg_weights is not None:
        load_vgg16_weights(model, vgg_weights)
    return model


def log_hdr_model(model: keras.Model) -> keras.Model:
    """The same network with its log-HDR prediction (before blending) as output."""
    return keras.Model(
        model.input, model.get_layer(LOG_HDR_LAYER).output, name=model.name
    )
