"""SingleHDR, Liu et al. 2020: single-image HDR by reversing the camera pipeline
(METHODS.md §5).

- `model`: `build_liu`, `submodel`, the per-stage training views;
- `networks`: its four sub-networks;
- `bilinear_upsample`, `curve_application`, `highlight_residual`, `inverse_curve`,
  `sobel`, `soft_histogram`: its layers;
- `losses`, `constants`: its per-stage losses and their constants;
- `spec`: parts for freezing, the staged schedules, the `MethodSpec`.
The camera-shot writer (`hdr_keras.ops.camera_singlehdr`) and the CRF basis
(`hdr_keras.ops.crf`) stay in `hdr_keras.ops`: the data pipeline (`tfrecords`)
uses them too.
"""

from hdr_keras.methods.liu.model import (
    JOINT_OUTPUTS,
    STRIDE,
    SUBMODELS,
    build_liu,
    dequantization_view,
    hallucination_view,
    joint_view,
    linearization_view,
    refinement_view,
    submodel,
)
from hdr_keras.methods.liu.spec import SPEC

SPECS = (SPEC,)

__all__ = [
    "JOINT_OUTPUTS",
    "SPEC",
    "SPECS",
    "STRIDE",
    "SUBMODELS",
    "build_liu",
    "dequantization_view",
    "hallucination_view",
    "joint_view",
    "linearization_view",
    "refinement_view",
    "submodel",
]
