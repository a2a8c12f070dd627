"""Debevec & Malik 1997, training-free: the camera response is calibrated on the
input stack itself (Grossberg 2003 histogram sampling + `g_solve`), then the
log-domain triangle-weighted radiance merge.

- `core`: the functions, in TensorFlow ops (eager, `tf.function`, SavedModels);
- `model`: `DebevecMerge` and `build_debevec` (the registry model);
- the `MethodSpec` `SPEC` below.

Every function runs eagerly and inside `tf.function`/SavedModels with dynamic frame
counts and image sizes, so the model serves over gRPC like the trained methods.
The public functions hold no Python control flow on tensors and are marked
`do_not_convert`: AutoGraph would only slow their tracing down (about 5x).
"""

from hdr_keras.methods.debevec.model import STRIDE, DebevecMerge, build_debevec
from hdr_keras.spec import STACK, MethodSpec

SPEC = MethodSpec(
    name="debevec",
    builder=build_debevec,
    input_kind=STACK,
    paper="Debevec & Malik 1997, Recovering high dynamic range radiance maps "
    "from photographs (response calibrated on the input stack)",
    stride=STRIDE,
    training_free=True,
    whole_image=True,
)
SPECS = (SPEC,)

__all__ = ["SPEC", "SPECS", "STRIDE", "DebevecMerge", "build_debevec"]
