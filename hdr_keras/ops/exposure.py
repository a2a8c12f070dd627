"""Exposure helpers: stops <-> exposure time, and LDR <-> HDR through a gamma curve.

Conventions (METHODS.md, "common to the stack methods"):
- an exposure is given as a bias in stops (EV); its exposure time is t = 2 ** ev;
- an LDR value Z in [0, 1] (display-referred) maps to linear HDR as H = Z ** gamma / t;
- linear HDR maps back to LDR as Z = clip((H * t) ** (1 / gamma), 0, 1).
"""

from __future__ import annotations

from keras import ops

from hdr_keras.constants import GAMMA


def ev_to_time(ev):
    """Exposure bias in stops -> relative exposure time 2 ** ev."""
    return ops.power(2.0, ops.convert_to_tensor(ev, dtype="float32"))


def time_to_ev(exposure_time):
    """Exposure time (seconds or relative) -> exposure value in stops, log2(t)."""
    return ops.log2(ops.convert_to_tensor(exposure_time, dtype="float32"))


def normalize_ev(ev, axis: int = -1):
    """Shifts exposure biases so that the smallest along `axis` is 0 stops."""
    ev = ops.convert_to_tensor(ev, dtype="float32")
    return ev - ops.min(ev, axis=axis, keepdims=True)


def ldr_to_hdr(ldr, exposure_time, gamma: float = GAMMA):
    """Linearises display-referred LDR in [0, 1]: H = Z ** gamma / t.

    `exposure_time` broadcasts against `ldr` (a scalar, or shaped [..., 1, 1, 1]).
    """
    ldr = ops.clip(ops.convert_to_tensor(ldr), 0.0, 1.0)
    return ops.power(ldr, gamma) / exposure_time


def hdr_to_ldr(hdr, exposure_time, gamma: float = GAMMA):
    """Re-exposes linear HDR to display-referred LDR in [0, 1] (clipped), Z = (H t)^(1/gamma)."""
    exposed = ops.clip(ops.convert_to_tensor(hdr) * exposure_time, 0.0, 1.0)
    return ops.power(exposed, 1.0 / gamma)
