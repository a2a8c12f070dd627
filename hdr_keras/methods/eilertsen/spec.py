"""HDRCNN's `MethodSpec`: parts for freezing and its default schedules."""

from __future__ import annotations

from hdr_keras.methods.eilertsen.losses import HDRCNNLoss
from hdr_keras.methods.eilertsen.model import STRIDE, build_eilertsen, log_hdr_model
from hdr_keras.ops.camera import VirtualCameraConfig
from hdr_keras.spec import (
    PRETRAIN_DATA,
    SINGLE,
    MethodSpec,
    Schedule,
    Stage,
    TrainConfig,
)

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


def _loss(vgg_weights=None):
    return HDRCNNLoss("illuminance_reflectance")


# The authors' pre-training (training_code/README.md, hdrcnn_train.py): plain LDR
# photos (Places) linearised by the inverse camera curve (`tfrecords.make
# --source=ldr_folder`), through the virtual camera with sub-image scales 0.5-0.8,
# clipping percentiles 0.7-0.9 and JPEG quality 100 (the photos are compressed
# already), 224 x 224 crops, batch 16, Adam 2e-5, encoder from VGG16 weights.
PRETRAIN_CAMERA = VirtualCameraConfig(
    percentile_range=(0.7, 0.9), jpeg=True, jpeg_quality_range=(100, 100)
)
PRETRAIN = Stage(
    "pretrain",
    _loss,
    steps=1.0,
    learning_rate=2e-5,
    data=PRETRAIN_DATA,
    builtin_data=True,
    batch_size=16,
    patch_size=224,
    camera=PRETRAIN_CAMERA,
    crop_fraction=(0.5, 0.8),
)
# Fine-tuning on HDR images: the paper's settings, i.e. the config's own
# (5e-5, batch 4, 320 x 320, the default virtual camera), from the pre-trained
# weights. Without pre-training data (a run with --data only) it is the only stage.
FINETUNE = Stage("finetune", _loss, steps=4.0)

# Eilertsen et al. 2017: Adam 5e-5 decayed x0.99 per epoch, batch 4, 320 x 320,
# illuminance + reflectance loss (lambda 0.5), 100 epochs; `--loss` picks the
# masked log L2 instead. A run through both stages gives pre-training 1/5 of the
# steps (`Stage.steps` shares); `--stage=NAME --steps=N` sets each alone.
TRAINING = TrainConfig(
    learning_rate=5e-5,
    decay_per_epoch=0.99,
    loss=_loss,
    paper=Schedule(steps=200_000, steps_per_epoch=1000, batch_size=4, patch_size=320),
    quick=Schedule(steps=150, steps_per_epoch=30, batch_size=4, patch_size=128),
    stages=(PRETRAIN, FINETUNE),
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
