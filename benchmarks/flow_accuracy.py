"""Optical-flow accuracy and speed: hdr_keras.ops.flow.estimate_flow vs OpenCV DIS.

Usage: python -m benchmarks.flow_accuracy [--pairs=4] [--height=240 --width=320]
       [--full_size] [--jit]

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
already traced). `--full_size` also times one 1000x1500 pair (Kalantari's image
size): the first call (tracing, and XLA compilation with `--jit`) and a warm call.

Measured 2026-11-25 on the shared 2-core VM (load average 8-12 from other jobs, so
times are noisy and pessimistic): see the README section "Optical flow and
alignment" for the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from hdr_keras.synthetic.scenes import generate_scene  # noqa: E402

MARGIN = 8  # border pixels left out of the EPE
MAX_MOTION = 10.0  # largest displacement of any pair, pixels


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4, help="pairs of each kind")
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full_size", action="store_true", help="time 1000x1500")
    parser.add_argument("--jit", action="store_true", help="estimate_flow with XLA")
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
    return parser.parse_args()


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


def ours(reference, moving, jit: bool, interpolation: str | None, median=None):
    """(flow, first-call s, warm-call s, warm-call CPU s) of estimate_flow."""
    from hdr_keras.ops.flow import estimate_flow

    args = (reference[None], moving[None])
    kwargs = {"jit_compile": jit}
    if interpolation is not None:
        kwargs["interpolation"] = interpolation
    if median is not None:
        kwargs["median_filter"] = median
    start = time.perf_counter()
    flow = np.asarray(estimate_flow(*args, **kwargs))[0]
    first = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    flow = np.asarray(estimate_flow(*args, **kwargs))[0]
    warm, cpu = time.perf_counter() - start, time.process_time() - cpu
    return flow, first, warm, cpu


def main() -> None:
    args = _parse_args()
    rng = np.random.default_rng(args.seed)
    megapixels = args.height * args.width / 1e6
    rows, ours_times, cpu_times, dis_times = [], [], [], []
    print(
        f"pairs {args.height}x{args.width}, jit={args.jit}, "
        f"interpolation={args.interpolation or 'default'}, "
        f"median_filter={'default' if args.median_filter is None else args.median_filter}"
    )
    print(f"{'pair':<12}{'motion px':>10}{'EPE ours':>10}{'EPE DIS':>10}{'EPE 0':>8}")
    for kind, make in (("smooth", smooth_pair), ("object", object_pair)):
        for i in range(args.pairs):
            reference, moving, truth, valid = make(
                rng, 100 + i, args.height, args.width
            )
            flow, _, warm, cpu = ours(
                reference, moving, args.jit, args.interpolation, args.median_filter
            )
            cpu_times.append(cpu)
            dis, dis_time = dis_flow(reference, moving)
            ours_times.append(warm)
            dis_times.append(dis_time)
            motion = float(np.sqrt((truth**2).sum(-1)).max())
            row = (epe(flow, truth, valid), epe(dis, truth, valid))
            rows.append((kind, *row))
            zero = epe(np.zeros_like(truth), truth, valid)
            print(
                f"{kind}-{i:<5}{motion:>10.2f}{row[0]:>10.3f}{row[1]:>10.3f}{zero:>8.2f}"
            )
    for kind in ("smooth", "object"):
        mine = [r[1] for r in rows if r[0] == kind]
        theirs = [r[2] for r in rows if r[0] == kind]
        print(
            f"mean EPE {kind}: ours {np.mean(mine):.3f} px, DIS {np.mean(theirs):.3f} px"
        )
    print(
        f"runtime per megapixel (median, warm): ours "
        f"{statistics.median(ours_times) / megapixels:.2f} s/MP "
        f"({statistics.median(cpu_times) / megapixels:.2f} CPU s/MP), DIS "
        f"{statistics.median(dis_times) / megapixels:.3f} s/MP"
    )
    if args.full_size:
        reference, moving, truth, valid = smooth_pair(rng, 7, 1000, 1500)
        flow, first, warm, cpu = ours(
            reference, moving, args.jit, args.interpolation, args.median_filter
        )
        dis, dis_time = dis_flow(reference, moving)
        print(
            f"1000x1500: ours first call {first:.1f} s, warm {warm:.1f} s "
            f"({cpu:.1f} CPU s) "
            f"(EPE {epe(flow, truth, valid):.3f}); DIS {dis_time:.2f} s "
            f"(EPE {epe(dis, truth, valid):.3f})"
        )


if __name__ == "__main__":
    main()
