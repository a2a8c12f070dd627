"""Kalantari & Ramamoorthi 2017: optical-flow alignment + CNN merge (METHODS.md §1).

- `model`: `build_kalantari[_direct|_we|_wie]`, the training views;
- `flow_alignment`, `weight_blending`, `stack_reflect_pad`: its layers;
- `losses`: `CroppedL2Loss`;
- `spec`: parts for freezing, default schedules (WIE's two stages), the specs.
"""

from hdr_keras.methods.kalantari.losses import CroppedL2Loss
from hdr_keras.methods.kalantari.model import (
    ALIGNMENT_LAYER,
    BORDER,
    PAD_LAYER,
    PADDINGS,
    STRIDE,
    VARIANTS,
    build_kalantari,
    build_kalantari_direct,
    build_kalantari_we,
    build_kalantari_wie,
    refine_targets,
    refined_images_model,
    training_model,
)
from hdr_keras.methods.kalantari.spec import DIRECT_SPEC, WE_SPEC, WIE_SPEC

SPECS = (DIRECT_SPEC, WE_SPEC, WIE_SPEC)

__all__ = [
    "ALIGNMENT_LAYER",
    "BORDER",
    "CroppedL2Loss",
    "DIRECT_SPEC",
    "PADDINGS",
    "PAD_LAYER",
    "SPECS",
    "STRIDE",
    "VARIANTS",
    "WE_SPEC",
    "WIE_SPEC",
    "build_kalantari",
    "build_kalantari_direct",
    "build_kalantari_we",
    "build_kalantari_wie",
    "refine_targets",
    "refined_images_model",
    "training_model",
]
