"""What a speed figure depends on: the CPU's instruction sets and whether oneDNN is on.

Shared by the export's XLA decision (written into the metadata asset) and the
benchmarks (`benchmarks._measure.machine_info`), so that figures from different
machines can be told apart. No TensorFlow import at module level.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

# Instruction-set flags of /proc/cpuinfo that decide which TF/oneDNN/XLA kernels run.
SIMD_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "asimd",
    "sve",
)


def cpu_model_and_flags() -> tuple[str, list[str]]:
    """(CPU model name, all flags of its first /proc/cpuinfo entry); flags [] when
    /proc/cpuinfo is not readable (not Linux)."""
    cpu = platform.processor() or platform.machine()
    flags: list[str] = []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith(("flags", "Features")) and not flags:
                flags = line.split(":", 1)[1].split()
    except OSError:
        pass
    return cpu, flags


def onednn_enabled() -> bool | None:
    """Whether TF runs its oneDNN kernels in this process (TF's own answer, which
    follows TF_ENABLE_ONEDNN_OPTS and the platform default); None if unknown."""
    try:
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return None


def machine_summary() -> dict[str, Any]:
    """CPU model, its SIMD flags of `SIMD_FLAGS`, usable cores, oneDNN, TF version."""
    import tensorflow as tf

    cpu, flags = cpu_model_and_flags()
    return {
        "cpu": cpu,
        "cpu_features": [flag for flag in SIMD_FLAGS if flag in flags],
        "usable_cores": (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count()
        ),
        "onednn_enabled": onednn_enabled(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
        "tensorflow": tf.__version__,
    }
