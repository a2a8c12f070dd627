"""The single-image baseline, training-free: invert the assumed camera curve only,
H = x ** 2 (HDRCNN's linearisation, no hallucination).

- `model`: `InverseCurve` and `build_inverse_curve`;
- the `MethodSpec` `SPEC` below.
"""

from hdr_keras.methods.inverse_curve.model import (
    STRIDE,
    InverseCurve,
    build_inverse_curve,
)
from hdr_keras.spec import SINGLE, MethodSpec

SPEC = MethodSpec(
    name="inverse_curve",
    builder=build_inverse_curve,
    input_kind=SINGLE,
    paper="Inverse camera curve only, x ** 2 (HDRCNN's linearisation, no "
    "hallucination): the single-image baseline",
    stride=STRIDE,
    training_free=True,
)
SPECS = (SPEC,)

__all__ = ["SPEC", "SPECS", "STRIDE", "InverseCurve", "build_inverse_curve"]
