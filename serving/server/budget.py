"""The per-model pixel budget: refuse a request the model cannot run, before it runs.

TF Serving has no such guard: a request that fits the gRPC message limit but not the
model's memory (or whose activations pass 2**31 elements, where TensorFlow's int32
kernel indexing breaks) can abort the whole server process. Here every image input
is counted before any TensorFlow op runs, and a request above the model's budget is
refused with RESOURCE_EXHAUSTED, naming the limit and pointing to tiled prediction.

- `request_pixels`: pixels of a request, from the tensor shapes (float images,
  [..., H, W, 3]: every dimension but the channels) and from the headers of encoded
  PNG / JPEG strings (`serving.server.image_size`), without decoding anything.
- `derive_max_pixels`: the default budget of a loaded signature, from the machine's
  memory and a measurement of the model (`measure_bytes_per_pixel`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Mapping

import grpc

from serving.server.errors import ServingError
from serving.server.image_size import encoded_image_pixels

logger = logging.getLogger(__name__)

# Fraction of the machine's memory that one request may use.
MEMORY_FRACTION = 0.5
# TensorFlow's CPU kernels index tensors with int32 (Eigen's default index type in
# many of them): a tensor with more elements crashes the process.
MAX_TENSOR_ELEMENTS = (1 << 31) - 1
FLOAT32_BYTES = 4
TILE_HINT = "predict it in tiles: python -m serving.predict --tile=512 ..."


def is_image_input(dtype_enum: int, dims: list[int]) -> bool:
    """A float image input: [..., H, W, 3] of rank 4 (single) or 5 (stack)."""
    from tensorflow.core.framework import types_pb2

    return dtype_enum == types_pb2.DT_FLOAT and len(dims) in (4, 5) and dims[-1] == 3


def shape_pixels(shape: list[int]) -> int:
    """Pixels of a float image tensor of `shape`: every dimension but the last."""
    pixels = 1
    for size in shape[:-1]:
        pixels *= max(0, int(size))
    return pixels


def request_pixels(
    image_inputs: Mapping[str, str],
    shapes: Mapping[str, list[int]],
    strings: Mapping[str, Callable[[], list[bytes]]],
) -> int:
    """Total pixels of the image inputs of a request.

    Args:
        image_inputs: input name -> "float" (a float image tensor) or "encoded" (a
            string tensor of encoded images).
        shapes: input name -> the request's tensor shape.
        strings: input name -> a function returning its encoded strings (called only
            for "encoded" inputs).
    """
    total = 0
    for name, kind in image_inputs.items():
        if name not in shapes:
            continue
        if kind == "float":
            total += shape_pixels(shapes[name])
        elif name in strings:
            total += sum(encoded_image_pixels(data) or 0 for data in strings[name]())
    return total


def check_pixels(pixels: int, limit: int | None, model: str, version: int) -> None:
    """RESOURCE_EXHAUSTED when `pixels` exceeds `limit` (None: no limit)."""
    if limit is not None and pixels > limit:
        raise ServingError(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"the request holds {pixels} pixels but model {model} version {version} "
            f"runs at most {limit} pixels per request (--max_pixels_per_request); "
            + TILE_HINT,
        )


def memory_bytes() -> int:
    """The memory this process may use: MemTotal, or the cgroup limit when lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file in (
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_peak_rss() -> bool:
    """Resets VmHWM (Linux >= 4.0: writing 5 to clear_refs); False if impossible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure_bytes_per_pixel(
    run: Callable[[int], None], probe_side: int
) -> float | None:
    """Peak resident memory growth per pixel of one run on a probe image.

    `run(side)` runs the signature on a side x side probe. The growth of the peak RSS
    (VmHWM, reset just before) over the RSS before the run is divided by the probe's
    pixels; fixed costs of the run are counted in, so the figure errs on the large
    side. None when the platform cannot measure it (no /proc).
    """
    before = _status_kib("VmRSS")
    if before is None or not _reset_peak_rss():
        return None
    run(probe_side)
    peak = _status_kib("VmHWM")
    if peak is None:
        return None
    return max(0, peak - before) * 1024 / float(probe_side * probe_side)


def derive_max_pixels(bytes_per_pixel: float, memory: int | None = None) -> int:
    """The budget for a model using `bytes_per_pixel`.

    Two bounds, the smaller wins: the request may use MEMORY_FRACTION of the memory,
    and no tensor may pass MAX_TENSOR_ELEMENTS elements. The largest tensor's bytes
    per pixel are at most `bytes_per_pixel` (it is part of the measured peak), so
    its elements per pixel are at most bytes_per_pixel / 4 (float32).
    """
    memory = memory_bytes() if memory is None else memory
    by_memory = MEMORY_FRACTION * memory / bytes_per_pixel
    by_elements = MAX_TENSOR_ELEMENTS / (bytes_per_pixel / FLOAT32_BYTES)
    return int(min(by_memory, by_elements))
