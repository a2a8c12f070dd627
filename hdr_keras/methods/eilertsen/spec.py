"""HDRCNN's `MethodSpec`: parts for freezing and its default schedules."""

from __future__ import annotations

from hdr_keras.methods.eilertsen.losses import HDRCNNLoss
from hdr_keras.methods.eilertsen.model import STRIDE, build_eilertsen, log_hdr_model
from hdr_keras.spec import SINGLE, MethodSpec, Schedule, TrainConfig

PARTS = {
    # VGG16 conv1_1..conv5_3, the layers `hdr_keras.vgg16.load_vgg16_weights` fills.
    "encoder": ("block*_conv*",),
    # The 3x3 convolution + BN at 1/32 resolution between encoder and decoder.
    "latent": ("latent_*",),
    # Deconvolutions + BN, the skip fusions and the output convolution.
    "decoder": ("decoder*_*", "skip*_*", "output_*"),
    # Only the 1x1 skip fusions (log-domain encoder activations -> decoder).
    "skips": ("skip*_*",),
    # The last 1x1 conv + BN and the fusion with the input image.
    "output": ("output_*", "skip_input_*"),
}

# Eilertsen et al. 2017: Adam 5e-5 decayed x0.99 per epoch, batch 4, 320 x 320,
# illuminance + reflectance loss (lambda 0.5), 100 epochs; `--loss` picks the
# masked log L2 instead.
TRAINING = TrainConfig(
    learning_rate=5e-5,
    decay_per_epoch=0.99,
    loss=lambda vgg_weights=None: HDRCNNLoss("illuminance_reflectance"),
    paper=Schedule(steps=200_000, steps_per_epoch=1000, batch_size=4, patch_size=320),
    quick=Schedule(steps=150, steps_per_epoch=30, batch_size=4, patch_size=128),
    loss_variants=HDRCNNLoss.KINDS,
)

SPEC = MethodSpec(
    name="eilertsen",
    builder=build_eilertsen,
    input_kind=SINGLE,
    paper="Eilertsen et al. 2017, HDR image reconstruction from a single "
    "exposure using deep CNNs (HDRCNN)",
    stride=STRIDE,
    loss_model=log_hdr_model,
    parts=PARTS,
    training=TRAINING,
    takes_vgg_weights=True,
    authors_weights="hdr_keras.methods.eilertsen.authors",
)
