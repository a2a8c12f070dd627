"""Measuring helpers shared by the benchmarks: wall/CPU timing, resident memory,
graph FLOPs and a description of the machine.

Memory is read from /proc/self/status (VmRSS, VmHWM); `reset_peak_rss` writes "5"
to /proc/self/clear_refs, which resets VmHWM (Linux >= 4.0), so one process can
measure the peak of several phases separately.
"""

from __future__ import annotations

import collections
import os
import platform
import resource
import statistics
import time
from pathlib import Path
from typing import Any, Callable

# The CPU flags and oneDNN state are read as the export's XLA decision reads them.
from hdr_keras.export.machine import (  # noqa: E402,F401  (re-exported)
    SIMD_FLAGS,
    cpu_model_and_flags,
    machine_summary,
    onednn_enabled,
)

MIB = float(1 << 20)
GIB = float(1 << 30)


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (VmHWM, else ru_maxrss)."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


def current_rss_bytes() -> int:
    """Resident set size of this process now (VmRSS; 0 when unavailable)."""
    return (_status_kib("VmRSS") or 0) * 1024


def reset_peak_rss() -> bool:
    """Resets this process's VmHWM to its current RSS; False when not supported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class PeakMemory:
    """Context manager: peak RSS and its growth over the RSS at entry, in bytes.

    `isolated` is False when the peak could not be reset, so `peak` is the
    process's peak since it started (an upper bound of this phase's peak).
    """

    def __enter__(self) -> "PeakMemory":
        self.isolated = reset_peak_rss()
        self.start = current_rss_bytes()
        self.peak = self.delta = 0
        return self

    def __exit__(self, *exc_info) -> None:
        self.peak = peak_rss_bytes()
        self.delta = max(0, self.peak - self.start)

    def as_dict(self) -> dict[str, Any]:
        return {
            "peak_rss_mib": self.peak / MIB,
            "rss_delta_mib": self.delta / MIB,
            "peak_isolated": self.isolated,
        }


def time_calls(
    call: Callable[[], Any], warmup: int, runs: int, budget_s: float | None = None
) -> dict[str, float]:
    """Median/best wall seconds and median process CPU seconds of `runs` calls.

    `call` must block until its result is on the host (e.g. end in np.asarray),
    so the time includes the device-to-host copy. `warmup` calls run first
    (tracing, allocator growth) and are not timed. With `budget_s`, fewer timed
    calls run (at least one) when the first timed call says that `runs` of them
    would take longer; "runs" in the result is the number timed.
    """
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    for _ in range(warmup):
        call()
    walls, cpus = [], []
    while len(walls) < runs:
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        if budget_s is not None and len(walls) == 1 and walls[0] * runs > budget_s:
            runs = max(1, int(budget_s // walls[0]))
    return {
        "median_s": statistics.median(walls),
        "best_s": min(walls),
        "cpu_s": statistics.median(cpus),
        "runs": runs,
    }


# Ops that move or describe data without arithmetic (not listed as uncounted).
_NO_ARITHMETIC = frozenset(
    "Const Identity IdentityN Placeholder NoOp Reshape Shape ShapeN StridedSlice "
    "Slice Pack Unpack ConcatV2 Split SplitV Transpose Cast Fill Range Pad MirrorPad "
    "PadV2 GatherV2 ExpandDims Squeeze Tile BroadcastTo BroadcastArgs ZerosLike "
    "OnesLike Select SelectV2 Assert StopGradient Size Rank Reverse ReverseV2 "
    "LogicalAnd LogicalOr LogicalNot Where Prod Max Min All Any _Arg _Retval "
    "StatelessIf StatelessWhile If While PartitionedCall StatefulPartitionedCall "
    "ReadVariableOp Merge Switch Enter Exit NextIteration LoopCond Floor FloorDiv "
    "FloorMod".split()
)


def _depthwise_flops(op) -> int:
    """2 x kh x kw multiply-adds per output element (TF registers no statistic)."""
    output, kernel = op.outputs[0].shape, op.inputs[1].shape
    if not (output.is_fully_defined() and kernel.is_fully_defined()):
        raise ValueError("dynamic shape")
    return 2 * output.num_elements() * kernel[0] * kernel[1]


_FALLBACK_FLOPS = {"DepthwiseConv2dNative": _depthwise_flops}


def graph_flops(function, *specs) -> dict[str, Any]:
    """FLOPs of one call of the tf.function `function` on inputs of `specs`.

    The concrete function is frozen (variables -> constants) and every op's
    statistic is taken from TensorFlow's FLOP registry, the one
    `tf.compat.v1.profiler` uses: convolutions (incl. transposed), matmuls,
    pooling and element-wise arithmetic; depthwise convolutions are added here.
    Other ops (resize, exp, tanh, linear solvers, ...) count 0 and are listed in
    "uncounted_ops"; ops whose shapes are not static are listed in
    "unknown_shape_ops" (their FLOPs are missing too).
    """
    from tensorflow.python.framework import ops
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    frozen = convert_variables_to_constants_v2(function.get_concrete_function(*specs))
    by_type: collections.Counter = collections.Counter()
    unknown: collections.Counter = collections.Counter()
    uncounted: collections.Counter = collections.Counter()
    for op in frozen.graph.get_operations():
        try:
            if op.type in _FALLBACK_FLOPS:
                value = _FALLBACK_FLOPS[op.type](op)
            else:
                value = ops.get_stats_for_node_def(
                    frozen.graph, op.node_def, "flops"
                ).value
        except ValueError:  # the op is known; its shapes are dynamic
            unknown[op.type] += 1
            continue
        if value is None:  # no statistic registered for this op type
            if op.type not in _NO_ARITHMETIC:
                uncounted[op.type] += 1
        elif value:
            by_type[op.type] += int(value)
    return {
        "total": int(sum(by_type.values())),
        "by_op": dict(by_type.most_common()),
        "unknown_shape_ops": dict(unknown),
        "uncounted_ops": dict(uncounted),
    }


def machine_info() -> dict[str, Any]:
    """`hdr_keras.export.machine.machine_summary` (CPU model, SIMD flags, usable
    cores, oneDNN, TF version) plus core count, load, memory and library versions."""
    import keras
    import numpy as np

    total_kib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                total_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        **machine_summary(),
        "logical_cores": os.cpu_count(),
        "memory_gib": total_kib * 1024 / GIB if total_kib else None,
        "load_average": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "numpy": np.__version__,
    }
