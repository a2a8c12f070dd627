"""Classic (training-free) merges of an exposure stack, used as baselines.

- `reference_linearized`: the reference frame alone, linearised, Z_ref ** gamma / t_ref.
- `triangle_merge`: every frame linearised and averaged with the triangle ("hat")
  weight w(z) = 1 - |2z - 1| of Debevec & Malik 1997, without any alignment, so
  moving objects ghost. Where every frame is saturated (or every frame is black),
  the pixel falls back to the shortest (or longest) exposure.

Inputs follow the stack convention (`hdr_keras.ops.stack`): `ldr` [B, N, H, W, 3] in
[0, 1] sorted by exposure, `exposure` [B, N] biases in stops (shifted so the
smallest is 0). Outputs are linear radiance [B, H, W, 3] in the units of the shortest
exposure, the units of the stack methods' targets.
"""

from __future__ import annotations

from keras import ops

from hdr_keras.constants import GAMMA
from hdr_keras.ops.exposure import ev_to_time, ldr_to_hdr, normalize_ev

# Summed weight below which a pixel counts as unusable in every frame.
_MIN_TOTAL_WEIGHT = 1e-4


def _linearized_frames(ldr, exposure, gamma):
    ldr = ops.clip(ops.convert_to_tensor(ldr, dtype="float32"), 0.0, 1.0)
    times = ev_to_time(normalize_ev(exposure, axis=-1))
    return ldr, ldr_to_hdr(ldr, ops.expand_dims(times, axis=(2, 3, 4)), gamma)


def reference_linearized(ldr, exposure, reference: int, gamma: float = GAMMA):
    """The reference frame alone mapped to linear radiance [B, H, W, 3]."""
    _, hdr = _linearized_frames(ldr, exposure, gamma)
    return hdr[:, reference]


def triangle_weight(ldr):
    """Debevec & Malik's hat weight 1 - |2z - 1| on values in [0, 1]."""
    return 1.0 - ops.abs(2.0 * ldr - 1.0)


def triangle_merge(ldr, exposure, gamma: float = GAMMA):
    """Hat-weighted average of the linearised frames, no alignment [B, H, W, 3]."""
    ldr, hdr = _linearized_frames(ldr, exposure, gamma)
    weights = triangle_weight(ldr)
    total = ops.sum(weights, axis=1)
    merged = ops.sum(weights * hdr, axis=1) / ops.maximum(total, _MIN_TOTAL_WEIGHT)
    bright = ops.mean(ldr, axis=1) > 0.5
    fallback = ops.where(bright, hdr[:, 0], hdr[:, -1])
    return ops.where(total < _MIN_TOTAL_WEIGHT, fallback, merged)
