"""Kalantari 2017's `MethodSpec`s (direct, WE, WIE), parts and schedules."""

from __future__ import annotations

import dataclasses

from hdr_keras.methods.kalantari.losses import CroppedL2Loss
from hdr_keras.methods.kalantari.model import (
    STRIDE,
    build_kalantari_direct,
    build_kalantari_we,
    build_kalantari_wie,
    refine_targets,
    refined_images_model,
    training_model,
)
from hdr_keras.spec import (
    ALIGNED_PATCHES,
    STACK,
    MethodSpec,
    Schedule,
    Stage,
    TrainConfig,
)

PARTS = {
    # The three hidden convolutions (7x7, 5x5, 3x3) with ReLU.
    "convs": ("conv[0-9]",),
    # The 1x1 sigmoid convolution(s): HDR (direct), weights, refined images (WIE).
    "output": ("output", "refine"),
}
PAPER = (
    "Kalantari & Ramamoorthi 2017, Deep high dynamic range imaging of dynamic "
    "scenes (optical-flow alignment + CNN merge"
)

# Kalantari & Ramamoorthi 2017: L2 on mu-law against the target cropped to the
# unpadded network's output, 40 x 40 patches of stacks aligned once with optical
# flow, batch 20, Adam 1e-4, ~2M iterations. WIE first learns to reproduce the
# aligned images ("refine"), then trains end to end ("joint").
TRAINING = TrainConfig(
    learning_rate=1e-4,
    loss=lambda: CroppedL2Loss("mu_law"),
    paper=Schedule(steps=2_000_000, steps_per_epoch=1000, batch_size=20, patch_size=40),
    quick=Schedule(steps=150, steps_per_epoch=75, batch_size=20, patch_size=40),
    training_data=ALIGNED_PATCHES,
)
WIE_STAGES = (
    Stage(
        "refine",
        loss=lambda: CroppedL2Loss("linear"),
        loss_model=refined_images_model,
        targets=refine_targets,
        steps=1.0,
    ),
    Stage("joint", loss=lambda: CroppedL2Loss("mu_law"), steps=3.0),
)


def _spec(name: str, builder, paper: str, training: TrainConfig) -> MethodSpec:
    return MethodSpec(
        name=name,
        builder=builder,
        input_kind=STACK,
        paper=PAPER + paper,
        stride=STRIDE,
        loss_model=training_model,
        parts=PARTS,
        training=training,
        authors_weights="hdr_keras.methods.kalantari.authors",
    )


DIRECT_SPEC = _spec(
    "kalantari_direct", build_kalantari_direct, ", direct variant)", TRAINING
)
WE_SPEC = _spec("kalantari_we", build_kalantari_we, ", weight estimator)", TRAINING)
WIE_SPEC = _spec(
    "kalantari_wie",
    build_kalantari_wie,
    ", weight and image estimator)",
    dataclasses.replace(TRAINING, stages=WIE_STAGES),
)
