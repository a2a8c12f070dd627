"""HDRCNN, Eilertsen et al. 2017: single-image HDR reconstruction (METHODS.md §4).

- `model`: `build_eilertsen`, `log_hdr_model` (the log-HDR training view);
- `highlight_blend`, `log_domain_transform`: its layers;
- `losses`: masked log L2 and the illuminance + reflectance loss (`HDRCNNLoss`);
- `spec`: parts for freezing, default schedules, the `MethodSpec`.
"""

from hdr_keras.methods.eilertsen.model import (
    STRIDE,
    build_eilertsen,
    load_vgg16_weights,
    log_hdr_model,
    vgg16_layer_names,
)
from hdr_keras.methods.eilertsen.spec import SPEC

SPECS = (SPEC,)

__all__ = [
    "SPEC",
    "SPECS",
    "STRIDE",
    "build_eilertsen",
    "load_vgg16_weights",
    "log_hdr_model",
    "vgg16_layer_names",
]
