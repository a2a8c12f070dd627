"""Wu et al. 2018's `MethodSpec`s (ResNet and U-Net variants) and schedules."""

from __future__ import annotations

from hdr_keras.losses import MuLawLoss
from hdr_keras.methods.wu.model import (
    RESNET_STRIDE,
    UNET_STRIDE,
    build_wu_resnet,
    build_wu_unet,
    tonemapped_model,
)
from hdr_keras.spec import STACK, MethodSpec, Schedule, TrainConfig

PARTS = {
    # One (unshared) encoder per frame: two stride-2 convs + BN.
    "encoder": ("encoder*_*",),
    # Fusion of the encodings at low resolution (ResNet: conv + residual blocks;
    # U-Net: the extra stride-2 conv levels).
    "merger": ("merger*", "res_block*"),
    # Deconvolutions with skip connections and the output convolution.
    "decoder": ("decoder*", "out_*"),
    # Only the final 5x5 convolution to RGB and the tanh.
    "output": ("out_*",),
}
# The ResNet variant also names its merger's 9 residual blocks.
RESNET_PARTS = {**PARTS, "res_blocks": ("res_block*",)}

# Wu et al. 2018 (both variants): L2 on mu-law (the network's tanh output is the
# tonemapped image), 256 x 256 patches, batch 16, Adam 2e-4 with beta1 0.5.
TRAINING = TrainConfig(
    learning_rate=2e-4,
    beta_1=0.5,
    loss=lambda: MuLawLoss("l2", prediction="mu_law"),
    paper=Schedule(steps=200_000, steps_per_epoch=1000, batch_size=16, patch_size=256),
    quick=Schedule(steps=150, steps_per_epoch=30, batch_size=4, patch_size=128),
)

PAPER = "Wu et al. 2018, Deep high dynamic range imaging with large foreground motions"

RESNET_SPEC = MethodSpec(
    name="wu_resnet",
    builder=build_wu_resnet,
    input_kind=STACK,
    paper=PAPER + " (ResNet variant, the authors' code)",
    stride=RESNET_STRIDE,
    loss_model=tonemapped_model,
    parts=RESNET_PARTS,
    training=TRAINING,
    authors_weights="hdr_keras.methods.wu.authors",
)
UNET_SPEC = MethodSpec(
    name="wu_unet",
    builder=build_wu_unet,
    input_kind=STACK,
    paper=PAPER + " (U-Net variant of the paper)",
    stride=UNET_STRIDE,
    loss_model=tonemapped_model,
    parts=PARTS,
    training=TRAINING,
)
