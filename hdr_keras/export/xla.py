"""Whether an export serves its model through XLA: `jit_compile` "off", "on" or "auto".

- "off": the serving functions run the model as a plain TensorFlow graph.
- "on": the model call and the outputs run as one `tf.function(jit_compile=True)`
  (`hdr_keras.export.signatures.model_forward`); before writing, the XLA and plain
  functions are run once on a small input and must agree within `TOLERANCE`.
- "auto": measured on this machine before writing. For each of `sizes` (default
  256x384 and 1000x1500) on a synthetic input: the plain and the XLA serving
  computation each get warm-up calls (XLA's first call compiles: its time minus
  the per-call median is reported as the compile time) and then the median of
  `runs` timed calls; the outputs of the two on the same input must agree within
  `TOLERANCE` (max abs over `hdr` and `tonemapped`). XLA is chosen when its summed
  per-call medians over the sizes are lower than the plain ones (the sum weights
  each size by its time, so the largest image decides when the two disagree);
  otherwise, or when XLA fails to compile or disagrees, plain is chosen and the
  reason recorded.

The decision (mode, compiled or not, reason, every measured figure, and the
machine: CPU model, instruction-set flags, oneDNN on/off, TF version) goes into the
export's metadata asset under "jit_compile" (`hdr_keras.inference.metadata`).
Models with a layer XLA cannot compile as one program (`not_compilable`) are never
compiled: "on" raises a ValueError naming the method and the layer, "auto" falls
back to plain with that reason.
"""

from __future__ import annotations

import contextlib

import logging
import statistics
import time
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from hdr_keras.export.machine import machine_summary
from hdr_keras.export.signatures import minimum_size, model_forward
from hdr_keras.spec import SINGLE, STACK

logger = logging.getLogger(__name__)

JIT_MODES = ("off", "on", "auto")
DEFAULT_SIZES = ((256, 384), (1000, 1500))
# Max abs difference allowed between the XLA and the plain outputs (issue #15):
# both compute the same float32 graph; only the order of floating-point
# operations differs (fusion, different convolution kernels).
TOLERANCE = 1e-5
STACK_FRAMES = 3
STACK_STOPS = 2.0
RULE = (
    "XLA when the sum over the sizes of its per-call median is lower than the "
    "plain function's (compile time excluded), and its outputs agree within "
    f"{TOLERANCE:g} max abs"
)
# A check run by "on" (and by "auto" before timing) at this side or the model's
# minimum size, whichever is larger: cheap, and catches models XLA cannot compile.
CHECK_SIDE = 32

# Layers declare what export needs to know about XLA (read with getattr, so that
# this module names no method's layer):
# - `NOT_XLA_COMPILABLE` (class attribute, str): why XLA cannot compile the layer
#   as part of one program;
# - `internal_xla` (settable bool): the layer runs XLA programs of its own (e.g.
#   Kalantari's FlowAlignment: its optical flow, per size bucket).


def not_compilable(model) -> str | None:
    """Why `model` cannot be served through XLA (naming the layer), or None."""
    for layer in _layers(model):
        reason = getattr(type(layer), "NOT_XLA_COMPILABLE", None)
        if reason:
            return f"layer {layer.name!r} ({type(layer).__name__}): {reason}"
    return None


def _layers(model) -> list:
    return [model, *model._flatten_layers(include_self=False, recursive=True)]


def internal_xla_layers(model) -> list:
    """The layers of `model` that run XLA programs of their own."""
    return [layer for layer in _layers(model) if getattr(layer, "internal_xla", False)]


def plain_mode(model) -> str:
    """The `jit_compile` mode of a served model without XLA around it, as
    `serving.export` writes it by default: "off" for most models; "auto" for a
    model whose layers run XLA programs of their own ("off" would remove them,
    and "auto" keeps them and, such layers not being compilable whole, times
    nothing)."""
    return "auto" if internal_xla_layers(model) else "off"


@contextlib.contextmanager
def without_internal_xla(model):
    """Within the block, the layers' own XLA programs are off (op by op instead),
    so a graph traced here holds no XLA at all; restored afterwards."""
    layers = internal_xla_layers(model)
    for layer in layers:
        layer.internal_xla = False
    try:
        yield
    finally:
        for layer in layers:
            layer.internal_xla = True


def check_mode(jit_compile: str) -> str:
    if jit_compile not in JIT_MODES:
        raise ValueError(
            f"jit_compile must be one of {', '.join(JIT_MODES)}, got {jit_compile!r}"
        )
    return jit_compile


def synthetic_inputs(input_kind: str, height: int, width: int, seed: int = 0):
    """Uniform [0, 1] LDR inputs of one image (single) or a 3-frame stack at 0, 2,
    4 stops (stack), as positional arguments of `model_forward`."""
    rng = np.random.default_rng(seed)
    if input_kind == SINGLE:
        return (tf.constant(rng.uniform(0, 1, (1, height, width, 3)), tf.float32),)
    if input_kind == STACK:
        ldr = rng.uniform(0, 1, (1, STACK_FRAMES, height, width, 3))
        exposure = np.arange(STACK_FRAMES)[None] * STACK_STOPS
        return tf.constant(ldr, tf.float32), tf.constant(exposure, tf.float32)
    raise ValueError(f"input_kind must be 'single' or 'stack', got {input_kind!r}")


def _to_host(outputs: dict) -> dict[str, np.ndarray]:
    return {name: np.asarray(value) for name, value in outputs.items()}


def max_abs_difference(first: dict, second: dict) -> float:
    """Max abs difference between two sets of outputs ("hdr", "tonemapped"), each
    output's divided by max(1, its largest magnitude in `first`), so linear HDR
    outputs above 1 are compared at their own scale (float32 rounding is relative);
    inf when either holds NaN or Inf."""
    worst = 0.0
    for name in first:
        reference = first[name].astype(np.float64)
        if not reference.size:
            continue
        scale = max(1.0, float(np.max(np.abs(reference))))
        value = float(np.max(np.abs(reference - second[name]))) / scale
        worst = max(worst, value if np.isfinite(value) else float("inf"))
    return worst


def _time(call: Callable[[], Any], warmup: int, runs: int, budget_s: float):
    """(first call s, median s of `runs` timed calls after `warmup` more calls,
    last output). Fewer timed runs (>= 1) when they would exceed `budget_s`."""
    start = time.perf_counter()
    output = call()
    first = time.perf_counter() - start
    for _ in range(warmup):
        output = call()
    walls: list[float] = []
    while len(walls) < runs:
        start = time.perf_counter()
        output = call()
        walls.append(time.perf_counter() - start)
        if len(walls) == 1 and walls[0] * runs > budget_s:
            runs = max(1, int(budget_s // walls[0]))
    return first, statistics.median(walls), len(walls), output


def _functions(model, input_kind: str):
    plain = tf.function(model_forward(model, input_kind, False), autograph=False)
    return plain, model_forward(model, input_kind, True)


def _check_side(model, input_kind: str) -> int:
    return max(CHECK_SIDE, minimum_size(model, input_kind))


def _error_text(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:400]


def check_on(model, input_kind: str, method: str | None) -> dict[str, Any]:
    """The record of jit_compile="on" after checking that XLA compiles the model and
    agrees with the plain function on a small input; ValueError otherwise."""
    who = f"method {method}" if method else f"model {model.name!r}"
    blocker = not_compilable(model)
    if blocker is not None:
        raise ValueError(
            f"jit_compile='on': {who} cannot be served through XLA: {blocker}; "
            "export it with jit_compile 'auto' (no XLA around the model; its "
            "layers keep their own XLA programs) or 'off' (no XLA at all)"
        )
    side = _check_side(model, input_kind)
    inputs = synthetic_inputs(input_kind, side, side)
    plain, xla = _functions(model, input_kind)
    try:
        compiled = _to_host(xla(*inputs))
    except Exception as error:  # noqa: BLE001 - reported with the model's name
        raise ValueError(
            f"jit_compile='on': XLA failed to compile {who} at {side}x{side}: "
            f"{_error_text(error)}"
        ) from error
    difference = max_abs_difference(_to_host(plain(*inputs)), compiled)
    if difference > TOLERANCE:
        raise ValueError(
            f"jit_compile='on': XLA output of {who} differs from the plain one by "
            f"{difference:.3g} (max abs at {side}x{side}, allowed {TOLERANCE:g})"
        )
    return {
        "mode": "on",
        "compiled": True,
        "reason": "requested (jit_compile='on')",
        "check": {"height": side, "width": side, "max_abs_difference": difference},
        "machine": machine_summary(),
    }


def summed_times(rows) -> tuple[float, float]:
    """(plain, XLA) per-call medians summed over the measured sizes: `RULE`
    serves XLA when the second is lower (and the outputs agree)."""
    return sum(row["plain_s"] for row in rows), sum(row["xla_s"] for row in rows)


def measure(
    model,
    input_kind: str,
    sizes=DEFAULT_SIZES,
    warmup: int = 1,
    runs: int = 3,
    budget_s: float = 60.0,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Plain against XLA on this machine at `sizes`: the record of jit_compile="auto"
    (see the module docstring for the rule); never raises for XLA's failures."""
    log = log or logger.info
    record: dict[str, Any] = {
        "mode": "auto",
        "compiled": False,
        "rule": RULE,
        "tolerance": TOLERANCE,
        "warmup": warmup,
        "runs": runs,
        "sizes": [],
        "machine": machine_summary(),
    }
    machine = record["machine"]
    log(
        f"jit_compile=auto: timing plain vs XLA at "
        f"{', '.join(f'{h}x{w}' for h, w in sizes)} on {machine['cpu']} "
        f"({' '.join(machine['cpu_features']) or 'no SIMD flags listed'}; oneDNN "
        f"{ {True: 'on', False: 'off', None: 'unknown'}[machine['onednn_enabled']] })"
    )
    blocker = not_compilable(model)
    if blocker is not None:
        record["reason"] = f"not compilable: {blocker}"
        log(f"jit_compile=auto: plain ({record['reason']})")
        return record
    plain, xla = _functions(model, input_kind)
    for height, width in sizes:
        inputs = synthetic_inputs(input_kind, height, width)
        row: dict[str, Any] = {"height": height, "width": width}
        record["sizes"].append(row)
        log(f"jit_compile=auto: {height}x{width} plain ...")
        first, median, timed, plain_out = _time(
            lambda: _to_host(plain(*inputs)), warmup, runs, budget_s
        )
        row.update(plain_s=median, plain_first_s=first, plain_runs=timed)
        log(f"jit_compile=auto: {height}x{width} XLA (compiles on its first call) ...")
        try:
            first, median, timed, xla_out = _time(
                lambda: _to_host(xla(*inputs)), warmup, runs, budget_s
            )
        except Exception as error:  # noqa: BLE001 - recorded, export goes on plain
            record["reason"] = f"XLA failed at {height}x{width}: {_error_text(error)}"
            log(f"jit_compile=auto: plain ({record['reason']})")
            return record
        row.update(
            xla_s=median,
            xla_first_s=first,
            xla_compile_s=max(0.0, first - median),
            xla_runs=timed,
            max_abs_difference=max_abs_difference(plain_out, xla_out),
        )
        log(
            f"jit_compile=auto: {height}x{width} plain {row['plain_s']:.3f} s, XLA "
            f"{row['xla_s']:.3f} s per call (+{row['xla_compile_s']:.1f} s compile), "
            f"max abs difference {row['max_abs_difference']:.2g}"
        )
        if row["max_abs_difference"] > TOLERANCE:
            record["reason"] = (
                f"XLA output differs from plain by {row['max_abs_difference']:.3g} "
                f"(max abs) at {height}x{width}, over the tolerance {TOLERANCE:g}"
            )
            log(f"jit_compile=auto: plain ({record['reason']})")
            return record
    plain_total, xla_total = summed_times(record["sizes"])
    record.update(plain_total_s=plain_total, xla_total_s=xla_total)
    record["compiled"] = xla_total < plain_total
    faster, slower = sorted((xla_total, plain_total))
    record["reason"] = (
        f"{'XLA' if record['compiled'] else 'plain'} is faster: {faster:.3f} s "
        f"against {slower:.3f} s summed over the sizes"
    )
    log(f"jit_compile=auto: {record['reason']}")
    return record


def decide(
    model,
    input_kind: str,
    jit_compile: str,
    method: str | None = None,
    sizes=DEFAULT_SIZES,
    **measure_options,
) -> dict[str, Any]:
    """The "jit_compile" record of an export (its "compiled" says whether to
    serve through XLA). "on" raises ValueError when the model cannot be compiled."""
    check_mode(jit_compile)
    if jit_compile == "off":
        return {"mode": "off", "compiled": False, "reason": "requested"}
    if jit_compile == "on":
        return check_on(model, input_kind, method)
    return measure(model, input_kind, sizes, **measure_options)
