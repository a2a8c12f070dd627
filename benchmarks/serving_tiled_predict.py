"""Benchmark: tiled HDR prediction of a 24-megapixel image in bounded memory.

    python benchmarks/serving_tiled_predict.py                  # 6000x4000, eilertsen
    python benchmarks/serving_tiled_predict.py --width=1500 --height=1000 --seam

Builds the method with random weights (`hdr_keras.build_model`), runs
`hdr_keras.inference.tiling.tiled_predict` through the same backend as `python -m
serving.predict --model=X.keras` (validated tf.function, batch of one tile), then the
display tonemap, and prints: peak resident memory (VmHWM from /proc, or
ru_maxrss), time per megapixel and per tile. Exits with status 1 when the peak RSS
exceeds `--max_rss_gib` (default 4).

`--seam` also prints the seam error (tiled vs untiled, max/mean absolute) on a real
photograph (Memorial Church, HDR_KERAS_TEST_DATA) or a synthetic image for several
tile/overlap settings.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._measure import GIB, current_rss_bytes, peak_rss_bytes  # noqa: E402


def synthetic_ldr(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth scene with saturated highlights, float32 [H, W, 3] in [0, 1]."""
    rng = np.random.default_rng(seed)
    image = np.empty((height, width, 3), np.float32)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)
    for row in range(0, height, 512):  # in bands: no full-size temporaries
        y = np.linspace(row / height, min(row + 512, height) / height, 512)[
            : min(512, height - row), None
        ].astype(np.float32)
        base = 0.45 + 0.3 * np.sin(9.0 * x[None] + 5.0 * y) * np.cos(7.0 * y)
        for channel, gain in enumerate((1.0, 0.9, 0.8)):
            image[row : row + 512, :, channel] = base * gain
    for _ in range(40):  # bright discs (light sources)
        cy, cx = rng.integers(0, height), rng.integers(0, width)
        radius = int(rng.integers(8, max(9, min(height, width) // 20)))
        y0, y1 = max(0, cy - radius), min(height, cy + radius)
        x0, x1 = max(0, cx - radius), min(width, cx + radius)
        yy, xx = np.ogrid[y0:y1, x0:x1]
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        image[y0:y1, x0:x1][disc] = 1.0
    image += rng.normal(0.0, 0.01, (1, width, 3)).astype(np.float32)
    np.clip(image, 0.0, 1.0, out=image)
    return image


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", default="eilertsen")
    parser.add_argument("--width", type=int, default=6000)
    parser.add_argument("--height", type=int, default=4000)
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--overlap", type=int, default=64)
    parser.add_argument("--max_rss_gib", type=float, default=4.0)
    parser.add_argument("--seam", action="store_true", help="also measure seams")
    parser.add_argument("--output", default="", help="also write this .exr + .png")
    args = parser.parse_args(argv)

    import keras

    import hdr_keras
    from hdr_keras.inference import tiling
    from hdr_keras.inference.backends import keras_backend
    from hdr_keras.inference.files import tonemap_for_display

    spec = hdr_keras.get_method(args.method)
    if spec.input_kind != "single":
        raise SystemExit("this benchmark drives single-image methods")
    keras.utils.set_random_seed(0)
    backend = keras_backend(hdr_keras.build_model(args.method), spec.input_kind)
    stride = spec.stride
    # Trace once on a tile-sized input so the timing measures steady-state work.
    warm = synthetic_ldr(args.tile, args.tile)
    backend.predict(warm[None], None)
    del warm

    ldr = synthetic_ldr(args.height, args.width)
    megapixels = args.height * args.width / 1e6
    tiles = tiling.tile_count(args.height, args.width, args.tile, args.overlap, stride)
    rss_before = current_rss_bytes()
    print(
        f"{args.method}: {args.width}x{args.height} ({megapixels:.1f} MP), "
        f"{tiles} tiles of {args.tile} px, overlap {args.overlap}, stride {stride}, "
        f"{os.cpu_count()} CPU(s)"
    )
    start = time.perf_counter()
    hdr = tiling.tiled_predict(
        backend.predict, ldr, None, args.tile, args.overlap, stride
    )
    predicted = time.perf_counter()
    display = tonemap_for_display(hdr)
    finished = time.perf_counter()
    if args.output:
        from hdr_keras.io import write_image

        write_image(args.output, hdr)
        write_image(Path(args.output).with_suffix(".png"), display)
    peak = peak_rss_bytes()
    assert np.isfinite(hdr).all() and hdr.shape == ldr.shape
    print(f"RSS before tiling       {rss_before / GIB:6.2f} GiB")
    print(
        f"peak RSS (VmHWM)        {peak / GIB:6.2f} GiB (limit {args.max_rss_gib} GiB)"
    )
    print(f"tiled prediction        {predicted - start:8.1f} s")
    print(f"  per megapixel         {(predicted - start) / megapixels:8.2f} s/MP")
    print(f"  per tile              {(predicted - start) / tiles:8.2f} s")
    print(f"display tonemap         {finished - predicted:8.1f} s")
    if args.seam:
        measure_seams(backend, stride)
    return 0 if peak <= args.max_rss_gib * GIB else 1


def measure_seams(backend, stride: int) -> None:
    """Tiled vs untiled on a real photo (or a synthetic one) for several settings."""
    from hdr_keras.inference import tiling

    data = Path(
        os.environ.get(
            "HDR_KERAS_TEST_DATA",
            Path(__file__).resolve().parents[2] / "shared" / "data",
        )
    )
    photo = data / "memorial_church_debevec" / "memorial0066.png"
    if photo.is_file():
        from hdr_keras.io import read_image

        image, name = read_image(photo), photo.name
    else:
        image, name = synthetic_ldr(768, 512, seed=1), "synthetic 512x768"
    crops = [("200x300 crop", image[100:300, 100:400]), ("full", image)]
    full_size = f"{image.shape[1]}x{image.shape[0]}"
    print(f"seam error on {name} ({full_size}), random weights:")
    for label, crop in crops:
        full = backend.predict(crop[None], None)[0]
        for tile, overlap in ((96, 32), (128, 64), (256, 64), (512, 64)):
            tiled = tiling.tiled_predict(
                backend.predict, crop, None, tile, overlap, stride
            )
            error = tiling.seam_error(tiled, full)
            print(
                f"  {label:13s} tile {tile:3d} overlap {overlap:3d}: max abs "
                f"{error['max_abs']:.2e}, mean abs {error['mean_abs']:.2e}, max/peak "
                f"{error['max_rel_to_peak']:.2e}"
            )


if __name__ == "__main__":
    sys.exit(main())
