"""mu-law tonemapping, the differentiable tonemapper used by every loss and for display.

T(H) = log(1 + mu * H) / log(1 + mu) maps linear radiance H in [0, 1] to [0, 1].
"""

from __future__ import annotations

import math

from keras import ops

from hdr_keras.constants import MU


def mu_law(hdr, mu: float = MU):
    """Tonemaps linear HDR `hdr` (expected in [0, 1]; values above 1 map above 1)."""
    hdr = ops.convert_to_tensor(hdr)
    return ops.log1p(mu * ops.maximum(hdr, 0.0)) / math.log1p(mu)


def inverse_mu_law(tonemapped, mu: float = MU):
    """Inverse of `mu_law`: maps mu-law values back to linear radiance."""
    tonemapped = ops.convert_to_tensor(tonemapped)
    return ops.expm1(tonemapped * math.log1p(mu)) / mu
