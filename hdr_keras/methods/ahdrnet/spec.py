"""AHDRNet's `MethodSpec`: parts for freezing and its default schedules."""

from __future__ import annotations

from hdr_keras.losses import MuLawLoss
from hdr_keras.methods.ahdrnet.model import STRIDE, build_ahdrnet
from hdr_keras.spec import STACK, MethodSpec, Schedule, TrainConfig

PARTS = {
    # The 3x3 convolution shared by every frame.
    "encoder": ("conv1", "conv1_lrelu*"),
    # One attention module per non-reference frame.
    "attention": ("attention*",),
    # The merging network: merge conv, DRDBs, fusion, global residual.
    "merge": ("merge_*", "drdb*", "fusion_*", "global_residual"),
    # Only the dilated residual dense blocks.
    "drdb": ("drdb*",),
    # The two 3x3 convolutions to RGB and the sigmoid.
    "output": ("conv_up", "conv_out", "hdr"),
}

# Yan et al. 2019 (AHDRNet): L1 on mu-law, random 256 x 256 crops, batch 8,
# Adam 1e-4.
TRAINING = TrainConfig(
    learning_rate=1e-4,
    loss=lambda: MuLawLoss("l1", prediction="linear"),
    paper=Schedule(steps=500_000, steps_per_epoch=1000, batch_size=8, patch_size=256),
    quick=Schedule(steps=120, steps_per_epoch=30, batch_size=4, patch_size=64),
)

SPEC = MethodSpec(
    name="ahdrnet",
    builder=build_ahdrnet,
    input_kind=STACK,
    paper="Yan et al. 2019, Attention-guided network for ghost-free high "
    "dynamic range imaging (AHDRNet)",
    stride=STRIDE,
    parts=PARTS,
    training=TRAINING,
    authors_weights="hdr_keras.methods.ahdrnet.authors",
)
