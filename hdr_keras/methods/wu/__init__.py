"""Wu et al. 2018: encoder-merger-decoder stack merging (METHODS.md §2).

- `model`: `build_wu_resnet`, `build_wu_unet`, `tonemapped_model`;
- `mu_law`, `residual_block`: its layers;
- `spec`: parts for freezing, default schedules, the two `MethodSpec`s.
"""

from hdr_keras.methods.wu.model import (
    RESNET_STRIDE,
    UNET_STRIDE,
    build_wu_resnet,
    build_wu_unet,
    tonemapped_model,
)
from hdr_keras.methods.wu.spec import RESNET_SPEC, UNET_SPEC

SPECS = (RESNET_SPEC, UNET_SPEC)

__all__ = [
    "RESNET_SPEC",
    "RESNET_STRIDE",
    "SPECS",
    "UNET_SPEC",
    "UNET_STRIDE",
    "build_wu_resnet",
    "build_wu_unet",
    "tonemapped_model",
]
