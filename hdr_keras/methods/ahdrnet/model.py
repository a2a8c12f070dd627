"""AHDRNet: attention-guided ghost-free HDR merging, Yan et al. (CVPR 2019).

Every frame's concat(Z_i, H_i) features (`StackFeatures`) go through one shared
3x3 convolution + LeakyReLU; an attention module weights each non-reference frame's
features given the reference's; the concatenation is merged by a 3x3 convolution
and refined by chained dilated residual dense blocks (DRDBs), whose outputs are
fused (1x1 then 3x3 convolution), added to the reference features (global
residual), and mapped to RGB through two 3x3 convolutions and a sigmoid. The
output is the linear HDR image in [0, 1] (METHODS.md §3). The network is stride 1:
any height and width work without padding.

Details taken from the authors' code (qingsenyangit/AHDRNet, model.py): every
convolution has a bias and "same" zero padding; there is no activation after the
merge, the fusion convolutions or the two output convolutions (only the final
sigmoid); its two unused convolutions (`attConv1`, `attConv3`) are not built.

Initialisation: Kaiming normal as in the paper and code (`init.kaiming_normal`:
untruncated normal, std sqrt(2 / fan_in)); biases start at zero (the authors'
PyTorch biases keep PyTorch's default uniform(+-1/sqrt(fan_in)); zero is the usual
Keras choice and makes no practical difference).
"""

from __future__ import annotations

import keras
from keras import layers

from hdr_keras.methods.ahdrnet.attention import AHDRNET_LEAKY_SLOPE, AttentionModule
from hdr_keras.methods.ahdrnet.drdb import DilatedResidualDenseBlock
from hdr_keras.layers.stack_features import SelectFrame, StackFeatures
from hdr_keras.ops.stack import check_stack_arguments

STRIDE = 1  # fully convolutional at full resolution
# torch.nn.init.kaiming_normal defaults: a=0, fan_in, untruncated normal.
KAIMING_NORMAL = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_in", "distribution": "untruncated_normal"},
}


def _conv(filters: int, kernel_size: int, name: str) -> layers.Conv2D:
    return layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        kernel_initializer=KAIMING_NORMAL,
        bias_initializer="zeros",
        name=name,
    )


def build_ahdrnet(
    num_frames: int = 3,
    reference: int | None = None,
    features: int = 64,
    growth: int = 32,
    dense_layers: int = 6,
    blocks: int = 3,
    name: str = "ahdrnet",
) -> keras.Model:
    """Builds AHDRNet for a stack of `num_frames` exposures.

    Args:
        num_frames: frames per stack N (>= 2), sorted by exposure.
        reference: index of the reference frame (the output is aligned to it);
            None: the middle one, N // 2.
        features: feature channels (64).
        growth: growth rate of the dense layers (32).
        dense_layers: dense layers per DRDB (6).
        blocks: number of chained DRDBs (3).
        name: model name.
    Returns:
        A functional model with inputs {"ldr": [B, N, H, W, 3] in [0, 1],
        "exposure": [B, N] in stops} and output linear HDR [B, H, W, 3] in [0, 1],
        for any H and W. With the defaults it has 1,441,283 trainable parameters.
    """
    reference = check_stack_arguments(num_frames, reference)
    ldr = keras.Input((num_frames, None, None, 3), name="ldr")
    exposure = keras.Input((num_frames,), name="exposure")
    stack = StackFeatures(name="stack_features")([ldr, exposure])

    shared_conv = _conv(features, 3, name="conv1")  # one layer: weights shared
    frame_features = []
    for i in range(num_frames):
        frame = SelectFrame(i, name=f"frame{i}")(stack)
        frame = shared_conv(frame)
        frame_features.append(
            layers.LeakyReLU(AHDRNET_LEAKY_SLOPE, name=f"conv1_lrelu{i}")(frame)
        )
    reference_features = frame_features[reference]

    attended = [
        (
            reference_features
            if i == reference
            else AttentionModule(
                features,
                kernel_initializer=KAIMING_NORMAL,
                name=f"attention{i}",
            )([frame, reference_features])
        )
        for i, frame in enumerate(frame_features)
    ]
    x = layers.Concatenate(name="merge_concat")(attended)
    x = _conv(features, 3, name="merge_conv")(x)

    block_outputs = []
    for b in range(1, blocks + 1):
        x = DilatedResidualDenseBlock(
            features,
            growth,
            dense_layers,
            kernel_initializer=KAIMING_NORMAL,
            name=f"drdb{b}",
        )(x)
        block_outputs.append(x)
    x = layers.Concatenate(name="fusion_concat")(block_outputs)
    x = _conv(features, 1, name="fusion_1x1")(x)
    x = _conv(features, 3, name="fusion_3x3")(x)
    x = layers.Add(name="global_residual")([x, reference_features])
    x = _conv(features, 3, name="conv_up")(x)
    x = _conv(3, 3, name="conv_out")(x)
    hdr = layers.Activation("sigmoid", name="hdr")(x)
    return keras.Model({"ldr": ldr, "exposure": exposure}, hdr, name=name)
