"""Kalantari's trained network (the authors' Net.mat) on the real dynamic bracket
PeopleStanding, scored as that scene's ground truth is stored: tone-mapped.

Usage: python -m benchmarks.authors_people_standing [--data=DIR] [--out=DIR]

The scene (`shared/data/dynamic_brackets/kalantari_PeopleStanding`, Kalantari &
Ramamoorthi's SIGGRAPH17 test scene resized to 1024x768: moving people, moving
camera) has its ground truth stored tone-mapped with OpenCV's default Reinhard
operator (`gt.png`). Each prediction is tone-mapped the same way
(`cv2.createTonemapReinhard()` with its defaults) and scored by PSNR against it:

- `kalantari_we` with the authors' trained weights (`reference/kalantari_we/
  Net.mat`, loaded by `hdr_keras.load_authors_weights`), its optical-flow
  alignment in the graph, run through `serving.predict` (the real CLI path);
- the reference (middle) frame alone, linearised (`hdr_keras.ops.merge.
  reference_linearized`);
- the unaligned Debevec & Malik merge (`--method=debevec`).

Then (`--served`, on by default) the same weights as a served model: exported to a
SavedModel (`hdr_keras.export.export_model` with `jit_compile="auto"`, as
`serving.export` writes it by default: the flow's XLA programs kept),
loaded with `tf.saved_model.load` and called through `serving_default` on the
bracket: the first call (XLA compilation of the flow's programs included, unless
the process found them in a persistent XLA cache) and a warm one, with the PSNR of
the served output.

Prints one line per predictor and writes the three tone-mapped images (512x384
JPEG) to --out (default docs/images/people_standing/).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

SCENE = "dynamic_brackets/kalantari_PeopleStanding"
FRAMES = ("262A2866.png", "262A2867.png", "262A2868.png")


def reinhard(hdr: np.ndarray) -> np.ndarray:
    """OpenCV's Reinhard operator with its defaults (as the ground truth), [0, 1]."""
    tonemapped = cv2.createTonemapReinhard().process(
        np.ascontiguousarray(hdr[..., ::-1], dtype=np.float32)
    )
    return np.clip(np.nan_to_num(tonemapped[..., ::-1]), 0.0, 1.0)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10.0 * np.log10(1.0 / np.mean((a - b) ** 2)))


def _predict(method: str, inputs, exposure_file: str, out: Path, extra=()) -> np.ndarray:
    from hdr_keras.io import read_image
    from serving import predict

    code = predict.main(
        [
            f"--method={method}",
            *extra,
            "--inputs",
            *inputs,
            f"--exposure_file={exposure_file}",
            f"--output={out}",
        ]
    )
    if code:
        raise SystemExit(f"serving.predict --method={method} failed ({code})")
    return read_image(out)


def served_timings(net: Path, frames: np.ndarray, stops: np.ndarray, truth) -> dict:
    """Cold and warm seconds of the exported authors' kalantari_we SavedModel on
    the bracket, and the Reinhard PSNR of its output."""
    import tensorflow as tf

    from hdr_keras.authors import load_authors_weights
    from hdr_keras.export.savedmodel import export_model

    model = load_authors_weights("kalantari_we", net)
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        path = export_model(
            model,
            Path(work) / "kalantari_we",
            "stack",
            method="kalantari_we",
            jit_compile="auto",  # as serving.export does: the flow's XLA kept
        )
        export_seconds = time.perf_counter() - start
        serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        ldr, exposure = tf.constant(frames[None]), tf.constant(stops[None])
        times = []
        for _ in range(2):
            start = time.perf_counter()
            hdr = serve(ldr=ldr, exposure=exposure)["hdr"].numpy()[0]
            times.append(time.perf_counter() - start)
    return {
        "export_s": export_seconds,
        "first_call_s": times[0],
        "warm_call_s": times[1],
        "psnr": psnr(reinhard(hdr), truth),
    }


def main(argv=None) -> dict:
    from hdr_keras.io import read_image, write_image
    from hdr_keras.ops.merge import reference_linearized
    from hdr_keras.ops.stack import default_reference

    default_data = os.environ.get("HDR_KERAS_TEST_DATA", "../shared/data")
    parser = argparse.ArgumentParser(prog="python -m benchmarks.authors_people_standing")
    parser.add_argument("--data", default=default_data)
    parser.add_argument("--out", default="docs/images/people_standing")
    parser.add_argument(
        "--served",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the exported SavedModel (default: on)",
    )
    args = parser.parse_args(argv)
    scene = Path(args.data) / SCENE
    net = Path(args.data) / "reference" / "kalantari_we" / "Net.mat"
    inputs = [str(scene / name) for name in FRAMES]
    exposure_file = str(scene / "exposure.txt")
    truth = read_image(scene / "gt.png")
    frames = np.stack([read_image(p) for p in inputs])
    stops = np.loadtxt(exposure_file, dtype=np.float32)
    results = {}
    images = {}
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        images["kalantari_we (authors' Net.mat)"] = _predict(
            "kalantari_we",
            inputs,
            exposure_file,
            Path(work) / "we.exr",
            [f"--authors_weights={net}"],
        )
        we_seconds = time.perf_counter() - start
        images["debevec, unaligned"] = _predict(
            "debevec", inputs, exposure_file, Path(work) / "debevec.exr"
        )
    images["reference frame alone"] = np.asarray(
        reference_linearized(frames[None], stops[None], default_reference(3))
    )[0]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, hdr in images.items():
        tonemapped = reinhard(hdr)
        results[name] = psnr(tonemapped, truth)
        stem = name.split(" ")[0].strip(",")
        thumb = cv2.resize(tonemapped, (512, 384), interpolation=cv2.INTER_AREA)
        write_image(out / f"{stem}.jpg", thumb, quality=90)
        print(f"{name:34s} PSNR (Reinhard) {results[name]:6.2f} dB")
    print(f"kalantari_we end to end (serving.predict, flow included): {we_seconds:.1f} s")
    if args.served:
        served = served_timings(net, frames, stops, truth)
        results["served"] = served
        print(
            f"kalantari_we served (SavedModel serving_default, 1024x768 x 3 frames): "
            f"first call {served['first_call_s']:.1f} s, warm call "
            f"{served['warm_call_s']:.1f} s, PSNR (Reinhard) {served['psnr']:.2f} dB "
            f"(export {served['export_s']:.1f} s)"
        )
    return results


if __name__ == "__main__":
    main()
