"""Mertens, Kautz & Van Reeth 2007 exposure fusion, training-free: contrast,
saturation and well-exposedness weights, Laplacian pyramid blending; the output is
a display image, not radiance.

- `core`: the functions, in TensorFlow ops (eager, `tf.function`, SavedModels);
- `model`: `ExposureFusion` and `build_mertens` (the registry model);
- the `MethodSpec` `SPEC` below.
"""

from hdr_keras.methods.mertens.model import STRIDE, ExposureFusion, build_mertens
from hdr_keras.spec import DISPLAY, STACK, MethodSpec

SPEC = MethodSpec(
    name="mertens",
    builder=build_mertens,
    input_kind=STACK,
    paper="Mertens, Kautz & Van Reeth 2007, Exposure fusion (display "
    "image, not radiance)",
    stride=STRIDE,
    training_free=True,
    output_kind=DISPLAY,
    whole_image=True,
)
SPECS = (SPEC,)

__all__ = ["SPEC", "SPECS", "STRIDE", "ExposureFusion", "build_mertens"]
