"""Optical-flow accuracy and speed: hdr_keras.ops.flow.estimate_flow vs OpenCV DIS.

Usage: python -m benchmarks.flow_accuracy [--pairs=4] [--height=240 --width=320]
       [--full_size] [--no_xla] [--reference_flow=CMD [--reference_name=NAME]]

Synthetic pairs with KNOWN flow, on 8-bit LDR renders of the package's procedural
HDR scenes (`hdr_keras.synthetic.generate_scene`, exposed so that the 90th
percentile of luminance displays at 0.8, gamma 2.2):
- "smooth": the whole image moves with a smooth random field (an affine part plus
  low-frequency sinusoids, up to 10 px);
- "object": a textured disc cut from another scene moves by up to 10 px over a
  static background.
For a flow f, reference(p) = moving(p + f(p)) (moving resampled with Lanczos-4), so
the estimate from (reference, moving) should equal f. The end-point error (EPE) is
averaged over valid interior pixels: p + f(p) inside the frame, 8 px from the
border, and (object pairs) not occluded in the moving frame.

Both methods get the same 8-bit images: estimate_flow as RGB / 255 with the default
(Kalantari's) parameters, DIS (`cv2.DISOpticalFlow_create(PRESET_MEDIUM)`) as 8-bit
grey. Runtime per megapixel is the median over the pairs of a warm call (graph
already traced, XLA programs compiled). `--full_size` also times one 1000x1500
pair (Kalantari's image size): the first call (tracing and XLA compilation) and a
warm call. For the first smooth pair (and the 1000x1500 one) the time of each
pyramid level's solver is printed, in ms and s per megapixel of that level, with
the total. `--no_xla` runs estimate_flow op by op (`jit_compile=False`).

`--reference_flow=CMD` adds a third, external method (e.g. a build of Ce Liu's C++
Coarse2FineFlow, which Kalantari's MATLAB code calls), run on the same machine.
CMD is split like a shell command line (`shlex.split`) and run once per pair with
three paths appended: REFERENCE MOVING OUTPUT. Each file is raw: three
little-endian int32 (H, W, C), then H*W*C little-endian float32 in row-major
[H, W, C] order. The two images are the float RGB arrays in [0, 1] that
estimate_flow gets (C = 3); the command writes the flow (C = 2, channels (dy, dx))
with moving(p + flow(p)) = reference(p), the convention of estimate_flow. Its EPE
is printed beside ours and DIS's, and its median wall time per megapixel (the
whole command: process start, reading and writing the files) beside theirs.
A command that fails, or writes a file of the wrong size or shape, stops the
benchmark with an error naming the file or giving the command's stderr.

Measured 2026-11-25, and against Ce Liu's C++ 2026-12-02, on the shared 2-core VM
with other jobs running, so times are noisy and pessimistic: see docs/optical-flow.md,
section "Accuracy", for the figures and how the C++ reference was built.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from hdr_keras.errors import UserError, run_reporting_errors  # noqa: E402
from hdr_keras.synthetic.scenes import generate_scene  # noqa: E402

MARGIN = 8  # border pixels left out of the EPE
MAX_MOTION = 10.0  # largest displacement of any pair, pixels


class ReferenceFlowError(UserError):
    """The --reference_flow command failed, or its output breaks the protocol."""


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4, help="pairs of each kind")
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full_size", action="store_true", help="time 1000x1500")
    parser.add_argument(
        "--no_xla",
        action="store_true",
        help="estimate_flow with jit_compile=False (TF ops only; default: XLA)",
    )
    parser.add_argument(
        "--interpolation",
        default=None,
        choices=("bilinear", "bicubic"),
        help="re-warping inside the solver (default: estimate_flow's, bicubic)",
    )
    parser.add_argument(
        "--median_filter",
        type=int,
        default=None,
        help="median filter of the flow after each warp (default: estimate_flow's; "
        "0: off, Liu's behaviour)",
    )
    parser.add_argument(
        "--reference_flow",
        default=None,
        metavar="CMD",
        help="external flow program, run as CMD REFERENCE MOVING OUTPUT on raw "
        "float32 files (see the module docstring)",
    )
    parser.add_argument(
        "--reference_name",
        default="ref",
        help="label of --reference_flow's columns (default: ref)",
    )
    args = parser.parse_args(argv)
    if args.reference_flow is not None:
        args.reference_flow = shlex.split(args.reference_flow)
        if not args.reference_flow:
            parser.error("--reference_flow: empty command")
    return args


HEADER = np.dtype("<i4")  # H, W, C of a raw file
BODY = np.dtype("<f4")


def write_raw(path, array: np.ndarray) -> None:
    """Writes a [H, W, C] array as int32 (H, W, C) then float32, row-major."""
    array = np.asarray(array)
    if array.ndim != 3:
        raise ValueError(f"{path}: expected an [H, W, C] array, not {array.shape}")
    with open(path, "wb") as file:
        file.write(np.asarray(array.shape, HEADER).tobytes())
        file.write(np.ascontiguousarray(array, BODY).tobytes())


def read_raw(path) -> np.ndarray:
    """The float32 [H, W, C] array of a raw file written by `write_raw` (or by the
    --reference_flow command); ReferenceFlowError naming the file if it is malformed."""
    data = Path(path).read_bytes()
    if len(data) < 3 * HEADER.itemsize:
        raise ReferenceFlowError(
            f"{path}: {len(data)} bytes, shorter than the int32 [H, W, C] header "
            f"({3 * HEADER.itemsize} bytes)"
        )
    shape = tuple(int(n) for n in np.frombuffer(data, HEADER, 3))
    if min(shape) <= 0:
        raise ReferenceFlowError(
            f"{path}: header [H, W, C] = {list(shape)} is not positive"
        )
    expected = 3 * HEADER.itemsize + int(np.prod(shape)) * BODY.itemsize
    if len(data) != expected:
        raise ReferenceFlowError(
            f"{path}: header [H, W, C] = {list(shape)} needs {expected} bytes of "
            f"float32, the file has {len(data)}"
        )
    body = np.frombuffer(data, BODY, offset=3 * HEADER.itemsize)
    return body.reshape(shape).astype(np.float32)


def reference_flow(
    command: list[str], reference: np.ndarray, moving: np.ndarray
) -> tuple[np.ndarray, float]:
    """(flow [H, W, 2] as (dy, dx), wall seconds) of `command` REF MOVING OUTPUT."""
    printable = shlex.join(command)
    with tempfile.TemporaryDirectory(prefix="reference_flow_") as folder:
        paths = [
            os.path.join(folder, name)
            for name in ("reference.f32", "moving.f32", "flow.f32")
        ]
        write_raw(paths[0], reference)
        write_raw(paths[1], moving)
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [*command, *paths], capture_output=True, stdin=subprocess.DEVNULL
            )
        except OSError as error:
            raise ReferenceFlowError(
                f"--reference_flow: cannot run {printable}: {error}"
            ) from error
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace").strip() or "(empty)"
            raise ReferenceFlowError(
                f"--reference_flow: {printable} exited with code {done.returncode}; "
                f"its stderr: {stderr}"
            )
        if not os.path.exists(paths[2]):
            raise ReferenceFlowError(
                f"--reference_flow: {printable} exited with 0 but did not write "
                f"the output flow {paths[2]}"
            )
        flow = read_raw(paths[2])
    if flow.shape != (*reference.shape[:2], 2):
        raise ReferenceFlowError(
            f"--reference_flow: {printable} wrote a flow of shape {list(flow.shape)} "
            f"to {paths[2]}; expected {[*reference.shape[:2], 2]} (dy, dx)"
        )
    if not np.isfinite(flow).all():
        raise ReferenceFlowError(
            f"--reference_flow: {printable} wrote non-finite values to {paths[2]}"
        )
    return flow, seconds


def render_ldr(seed: int, height: int, width: int) -> np.ndarray:
    """8-bit-quantised LDR float32 [H, W, 3] in [0, 1] of synthetic scene `seed`."""
    hdr = generate_scene(seed, height, width)
    lum = hdr @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    exposed = np.clip(hdr * (0.8**2.2 / np.percentile(lum, 90)), 0.0, 1.0)
    return np.round(exposed ** (1 / 2.2) * 255.0).astype(np.float32) / 255.0


def smooth_field(rng, height: int, width: int) -> np.ndarray:
    """Smooth random flow [H, W, 2] (dy, dx), largest magnitude in [3, MAX_MOTION]."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    y, x = y / height - 0.5, x / width - 0.5
    field = []
    for _ in range(2):
        value = rng.normal(0, 1) + rng.normal(0, 1) * x + rng.normal(0, 1) * y
        for _ in range(3):
            fy, fx = rng.uniform(-1.5, 1.5, 2)
            value = value + rng.normal(0, 0.7) * np.sin(
                2 * np.pi * (fy * y + fx * x) + rng.uniform(0, 2 * np.pi)
            )
        field.append(value)
    field = np.stack(field, -1)
    peak = np.sqrt((field**2).sum(-1)).max()
    return field * (rng.uniform(3.0, MAX_MOTION) / peak)


def resample(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """image(p + flow(p)) with Lanczos-4, border replicated."""
    height, width = flow.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x, map_y = x + flow[..., 1].astype(np.float32), y + flow[..., 0].astype(
        np.float32
    )
    out = cv2.remap(
        image, map_x, map_y, cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REPLICATE
    )
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.float32) / 255.0


def in_frame(flow: np.ndarray) -> np.ndarray:
    height, width = flow.shape[:2]
    y, x = np.mgrid[0:height, 0:width]
    sy, sx = y + flow[..., 0], x + flow[..., 1]
    valid = (sy >= 0) & (sy <= height - 1) & (sx >= 0) & (sx <= width - 1)
    valid[:MARGIN], valid[-MARGIN:], valid[:, :MARGIN], valid[:, -MARGIN:] = (
        False,
    ) * 4
    return valid


def smooth_pair(rng, seed, height, width):
    moving = render_ldr(seed, height, width)
    flow = smooth_field(rng, height, width)
    return resample(moving, flow), moving, flow, in_frame(flow)


def object_pair(rng, seed, height, width):
    """A disc of scene seed + 1000 over scene seed; moves by t between the frames."""
    background = render_ldr(seed, height, width)
    sprite = render_ldr(seed + 1000, height, width)
    radius = rng.uniform(0.15, 0.3) * min(height, width)
    cy = rng.uniform(radius + MAX_MOTION, height - radius - MAX_MOTION)
    cx = rng.uniform(radius + MAX_MOTION, width - radius - MAX_MOTION)
    angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(3.0, MAX_MOTION)
    t = np.array([np.sin(angle), np.cos(angle)]) * length
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)

    def disc(centre):  # anti-aliased coverage
        distance = np.sqrt((y - centre[0]) ** 2 + (x - centre[1]) ** 2)
        return np.clip(radius - distance + 0.5, 0.0, 1.0)[..., None]

    # the sprite's texture moves with it: sample it at p - t in the moving frame
    shifted = resample(sprite, np.broadcast_to(-t, (height, width, 2)))
    reference = background * (1 - disc((cy, cx))) + sprite * disc((cy, cx))
    moving = background * (1 - disc((cy + t[0], cx + t[1]))) + shifted * disc(
        (cy + t[0], cx + t[1])
    )
    inside_ref = disc((cy, cx))[..., 0] > 0.5
    inside_mov = disc((cy + t[0], cx + t[1]))[..., 0] > 0.5
    flow = np.where(inside_ref[..., None], t, 0.0)
    occluded = inside_mov & ~inside_ref  # background hidden in the moving frame
    boundary = np.abs(disc((cy, cx))[..., 0] - 0.5) < 0.5  # partial coverage
    valid = in_frame(flow) & ~occluded & ~boundary
    quantise = lambda a: np.round(a * 255.0).astype(np.float32) / 255.0  # noqa: E731
    return quantise(reference), quantise(moving), flow, valid


def epe(estimate: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float:
    return float(np.sqrt(((estimate - truth) ** 2).sum(-1))[valid].mean())


def dis_flow(reference: np.ndarray, moving: np.ndarray) -> tuple[np.ndarray, float]:
    """(flow [H, W, 2] as (dy, dx), seconds) of OpenCV's DIS, medium preset."""
    grey = [
        cv2.cvtColor(np.round(a * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
        for a in (reference, moving)
    ]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    start = time.perf_counter()
    flow = dis.calc(grey[0], grey[1], None)  # reference(x) ~ moving(x + flow)
    return flow[..., ::-1].copy(), time.perf_counter() - start


def _flow_kwargs(jit: bool, interpolation: str | None, median=None) -> dict:
    kwargs = {"jit_compile": jit}
    if interpolation is not None:
        kwargs["interpolation"] = interpolation
    if median is not None:
        kwargs["median_filter"] = median
    return kwargs


def ours(reference, moving, jit: bool, interpolation: str | None, median=None):
    """(flow, first-call s, warm-call s, warm-call CPU s) of estimate_flow."""
    from hdr_keras.ops.flow import estimate_flow

    args = (reference[None], moving[None])
    kwargs = _flow_kwargs(jit, interpolation, median)
    start = time.perf_counter()
    flow = np.asarray(estimate_flow(*args, **kwargs))[0]
    first = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    flow = np.asarray(estimate_flow(*args, **kwargs))[0]
    warm, cpu = time.perf_counter() - start, time.process_time() - cpu
    return flow, first, warm, cpu


def print_levels(reference, moving, kwargs) -> None:
    """Per pyramid level: size, iterations, warm seconds and seconds per MP."""
    from hdr_keras.ops.flow.estimate import time_levels

    _, rows = time_levels(reference[None], moving[None], **kwargs)
    height, width = reference.shape[:2]
    print(f"per pyramid level, {height}x{width} (warm call of each level's solver):")
    print(f"{'level':>6}{'size':>11}{'outer':>7}{'sweeps':>8}{'ms':>9}{'s/MP':>8}")
    for row in rows:
        pixels = row["height"] * row["width"] / 1e6
        size = f"{row['height']}x{row['width']}"
        print(
            f"{row['level']:>6}{size:>11}{row['outer']:>7}{row['sweeps']:>8}"
            f"{row['seconds'] * 1e3:>9.1f}{row['seconds'] / pixels:>8.2f}"
        )
    total = sum(row["seconds"] for row in rows)
    print(
        f"{'all':>6}{'':>11}{'':>7}{'':>8}{total * 1e3:>9.1f}"
        f"{total / (height * width / 1e6):>8.2f}"
    )


def main(argv=None) -> None:
    args = _parse_args(argv)
    args.jit = not args.no_xla
    command, name = args.reference_flow, args.reference_name
    rng = np.random.default_rng(args.seed)
    megapixels = args.height * args.width / 1e6
    rows, ours_times, cpu_times, dis_times, ref_times = [], [], [], [], []
    print(
        f"pairs {args.height}x{args.width}, jit={args.jit}, "
        f"interpolation={args.interpolation or 'default'}, "
        f"median_filter={'default' if args.median_filter is None else args.median_filter}"
    )
    if command:
        print(f"reference flow '{name}': {shlex.join(command)}")
    ref_label = f"EPE {name}"
    ref_width = max(10, len(ref_label) + 2) if command else 0
    print(
        f"{'pair':<12}{'motion px':>10}{'EPE ours':>10}{'EPE DIS':>10}"
        + (f"{ref_label:>{ref_width}}" if command else "")
        + f"{'EPE 0':>8}"
    )
    for kind, make in (("smooth", smooth_pair), ("object", object_pair)):
        for i in range(args.pairs):
            reference, moving, truth, valid = make(
                rng, 100 + i, args.height, args.width
            )
            if command:  # first: a broken command stops the run at once
                theirs, seconds = reference_flow(command, reference, moving)
                ref_times.append(seconds)
            flow, _, warm, cpu = ours(
                reference, moving, args.jit, args.interpolation, args.median_filter
            )
            cpu_times.append(cpu)
            dis, dis_time = dis_flow(reference, moving)
            ours_times.append(warm)
            dis_times.append(dis_time)
            row = [epe(flow, truth, valid), epe(dis, truth, valid)]
            if command:
                row.append(epe(theirs, truth, valid))
            rows.append((kind, *row))
            motion = float(np.sqrt((truth**2).sum(-1)).max())
            zero = epe(np.zeros_like(truth), truth, valid)
            print(
                f"{kind}-{i:<5}{motion:>10.2f}{row[0]:>10.3f}{row[1]:>10.3f}"
                + (f"{row[2]:>{ref_width}.3f}" if command else "")
                + f"{zero:>8.2f}"
            )
    reference, moving, _, _ = smooth_pair(
        np.random.default_rng(args.seed), 100, args.height, args.width
    )
    print_levels(
        reference, moving, _flow_kwargs(args.jit, args.interpolation, args.median_filter)
    )
    for kind in ("smooth", "object"):
        means = np.mean([r[1:] for r in rows if r[0] == kind], axis=0)
        print(
            f"mean EPE {kind}: ours {means[0]:.3f} px, DIS {means[1]:.3f} px"
            + (f", {name} {means[2]:.3f} px" if command else "")
        )
    print(
        f"runtime per megapixel (median, warm): ours "
        f"{statistics.median(ours_times) / megapixels:.2f} s/MP "
        f"({statistics.median(cpu_times) / megapixels:.2f} CPU s/MP), DIS "
        f"{statistics.median(dis_times) / megapixels:.3f} s/MP"
        + (
            f", {name} {statistics.median(ref_times) / megapixels:.2f} s/MP "
            "(wall time of the command)"
            if command
            else ""
        )
    )
    if args.full_size:
        reference, moving, truth, valid = smooth_pair(rng, 7, 1000, 1500)
        if command:
            theirs, seconds = reference_flow(command, reference, moving)
        flow, first, warm, cpu = ours(
            reference, moving, args.jit, args.interpolation, args.median_filter
        )
        dis, dis_time = dis_flow(reference, moving)
        line = (
            f"1000x1500: ours first call {first:.1f} s, warm {warm:.1f} s "
            f"({cpu:.1f} CPU s) "
            f"(EPE {epe(flow, truth, valid):.3f}); DIS {dis_time:.2f} s "
            f"(EPE {epe(dis, truth, valid):.3f})"
        )
        if command:
            line += f"; {name} {seconds:.2f} s (EPE {epe(theirs, truth, valid):.3f})"
        print(line)
        print_levels(
            reference, moving, _flow_kwargs(args.jit, args.interpolation, args.median_filter)
        )


if __name__ == "__main__":
    raise SystemExit(run_reporting_errors(main))
