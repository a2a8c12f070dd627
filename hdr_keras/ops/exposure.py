"""Exposure helpers: stops <-> exposure time, and LDR <-> HDR through a gamma curve.

Conventions (METHODS.md, "common to the stack methods"):
- an exposure is given as a bias in stops (EV); its exposure time is t = 2 ** ev;
- an LDR value Z in [0, 1] (display-referred) maps to linear HDR as H = Z ** gamma / t;
- linear HDR maps back to LDR as Z = clip((H * t) ** (1 / gamma), 0, 1).

Reference of the stops (one rule, `relative_stops` on arrays and `normalize_ev` on
tensors): the shortest exposure is 0 stops. Kalantari's code reads `exposure.txt`
as t_i = 2 ** bias_i without normalising (`ReadExpoTimes`), i.e. it measures from
the first frame, whose bias is 0 in every scene of the dataset, and its brackets
are sorted from the shortest to the longest exposure, so the first frame IS the
shortest and both rules agree. They differ only for a bracket given out of order,
where the minimum keeps every stop >= 0 and does not depend on the order of the
files (`hdr_keras.inference` computes the stops before sorting the frames).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from keras import ops

from hdr_keras.constants import GAMMA


def ev_to_time(ev):
    """Exposure bias in stops -> relative exposure time 2 ** ev."""
    return ops.power(2.0, ops.convert_to_tensor(ev, dtype="float32"))


def time_to_ev(exposure_time):
    """Exposure time (seconds or relative) -> exposure value in stops, log2(t)."""
    return ops.log2(ops.convert_to_tensor(exposure_time, dtype="float32"))


def normalize_ev(ev, axis: int = -1):
    """Shifts exposure biases so that the smallest along `axis` is 0 stops.

    The tensor form of `relative_stops` (for use inside models).
    """
    ev = ops.convert_to_tensor(ev, dtype="float32")
    return ev - ops.min(ev, axis=axis, keepdims=True)


def relative_stops(stops: Sequence[float]) -> np.ndarray:
    """Stops relative to the shortest exposure (the minimum becomes 0), float32 [N].

    The numpy form of `normalize_ev` (module docstring: the reference).
    """
    stops = np.asarray(stops, np.float32)
    return stops - stops.min()


def stops_from_times(times: Sequence[float]) -> np.ndarray:
    """Exposure times (seconds) -> stops relative to the shortest, float32 [N].

    `relative_stops(log2(times))`, computed in float64 so that e.g. times 1/250 and
    1/60 give log2(250 / 60) to float32 precision.
    """
    times = np.asarray(times, np.float64)
    if times.ndim != 1 or times.size == 0 or not np.all(times > 0):
        raise ValueError(f"exposure times must be positive numbers, got {times}")
    return np.log2(times / times.min()).astype(np.float32)


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
