"""Speed of two evaluation costs, before and after issue 15: SSIM and the built-in
camera-curve basis of SingleHDR ("liu").

Usage: python -m benchmarks.eval_speed [--runs=5] [--size=512]

Figures, each the median of `--runs` warm calls:
- SSIM of one `--size`^2 RGB pair, eagerly (as `training.evaluation` scores one
  image at a time): `tf.image.ssim` (before: an 11x11 depthwise filter) and
  `hdr_keras.metrics.ssim` (after: two 11-tap passes over the five statistics at
  once), with the largest difference between their values;
- the built-in basis as every process building `liu` used to get it (the curve
  family generated and two PCAs, `hdr_keras.ops.crf._build_builtin_basis` with the
  family's in-process cache cleared) and as it gets it now (read from the
  $HDR_KERAS_CACHE file, `hdr_keras.ops.crf_cache`; written once to a temporary
  cache folder first).

Wall-clock figures depend on the machine and its load, so each is printed as a
multiple of an anchor measured in the same run (the numpy reference computation of
`benchmarks.io_speed`, timed before and after), and as the before/after ratio.

Measured 2026-12-02 on the shared 2-core AMD EPYC VM (AVX-512, oneDNN on; TF 2.21)
with a load average of 9-14 from other jobs, so single figures are noisy:
`python -m benchmarks.eval_speed --runs=5`: see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

from benchmarks._measure import time_calls
from benchmarks.io_speed import _anchor_workload


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed calls per figure")
    parser.add_argument("--size", type=int, default=512, help="SSIM image side")
    return parser.parse_args(argv)


def _ssim_cases(size: int):
    import tensorflow as tf

    from hdr_keras import constants as C
    from hdr_keras.metrics import ssim

    rng = np.random.default_rng(0)
    a = rng.random((1, size, size, 3), dtype=np.float32)
    b = np.clip(a + 0.05 * rng.standard_normal(a.shape), 0, 1).astype(np.float32)
    a, b = tf.constant(a), tf.constant(b)

    def before():
        return tf.image.ssim(
            a, b, 1.0, C.SSIM_FILTER_SIZE, C.SSIM_FILTER_SIGMA, C.SSIM_K1, C.SSIM_K2
        ).numpy()

    def after():
        return np.asarray(ssim(a, b))

    difference = float(np.max(np.abs(before() - after())))
    return before, after, difference


def _basis_cases():
    from hdr_keras import constants as C
    from hdr_keras.ops import crf, crf_cache, crf_family

    k = C.CRF_NUM_COMPONENTS

    def before():
        crf_family.curve_family.cache_clear()
        return crf._build_builtin_basis(k)

    def after():
        return crf_cache.cached_basis_arrays(k, lambda: before())

    return before, after


def main(argv=None) -> int:
    args = _parse_args(argv)
    ssim_before, ssim_after, difference = _ssim_cases(args.size)
    with tempfile.TemporaryDirectory() as folder:
        saved = os.environ.get("HDR_KERAS_CACHE")
        os.environ["HDR_KERAS_CACHE"] = folder
        try:
            basis_before, basis_after = _basis_cases()
            basis_after()  # writes the cache file (not timed)
            workload = _anchor_workload()
            anchor_before = time_calls(workload, 1, args.runs)
            pairs = [
                (f"SSIM {args.size}x{args.size}x3", ssim_before, ssim_after),
                ("built-in CRF basis (K=11)", basis_before, basis_after),
            ]
            timings = [
                (name, time_calls(old, 1, args.runs), time_calls(new, 1, args.runs))
                for name, old, new in pairs
            ]
            anchor_after = time_calls(workload, 1, args.runs)
        finally:
            if saved is None:
                os.environ.pop("HDR_KERAS_CACHE", None)
            else:
                os.environ["HDR_KERAS_CACHE"] = saved
    anchor = (anchor_before["median_s"] + anchor_after["median_s"]) / 2
    print(
        f"anchor (numpy reference computation): median "
        f"{anchor_before['median_s'] * 1e3:.1f} ms before, "
        f"{anchor_after['median_s'] * 1e3:.1f} ms after ({args.runs} runs each); "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'figure':<28} {'before':>9} {'anchors':>8} {'after':>9} {'anchors':>8} "
        f"{'after/before':>12}"
    )
    for name, old, new in timings:
        old_s, new_s = old["median_s"], new["median_s"]
        print(
            f"{name:<28} {old_s * 1e3:7.1f}ms {old_s / anchor:8.2f} "
            f"{new_s * 1e3:7.1f}ms {new_s / anchor:8.2f} {new_s / old_s:12.3f}"
        )
    print(f"largest |SSIM after - SSIM before|: {difference:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
