"""Speed of the data-side code: Radiance decoding and synthetic scene/stack rendering.

Usage: python -m benchmarks.io_speed [--runs=7] [--hdr=FILE.hdr]

Times, each as the median of `--runs` warm calls (one untimed warm-up call first, so
the file is in the page cache and the texture caches are filled):
- `hdr_keras.io.radiance.read_hdr` of a 1024x768 RLE Radiance file, by default
  pu21/nancy_church.hdr of the test data ($HDR_KERAS_TEST_DATA, else
  ../shared/data beside the repository), else a synthetic 1024x768 file written
  with `write_hdr` to a temporary folder;
- `hdr_keras.synthetic.stacks.generate_stack` of a 3-frame 256x256 stack;
- `hdr_keras.synthetic.scenes.generate_scene` at 320x320 and 512x512.

Wall-clock figures depend on the machine and its load, so each is printed next to an
anchor measured in the same run: a fixed numpy reference computation (float64 sort
of 2**21 values plus 4 float32 exp/log passes over a 1024x768x3 array), timed
before and after the figures. Each figure is also printed as a multiple of the
anchor (median / mean of the two anchor medians; best / best anchor): the
multiples compare across machines, the seconds do not. The targets are those the
test suite used to assert (< 1 s for the decoder and for the stack); they are
printed, not enforced: speed is measured here, not in the tests.

Measured on the shared 2-core AMD EPYC VM (AVX-512; TF 2.21, numpy 2.4; load
average ~3 from other jobs, so medians are noisy), `--runs=15`: anchor 22-23 ms;
read_hdr 1024x768 49 ms (2.2 anchors), generate_stack 3x256x256 85 ms (3.7),
generate_scene 320x320 26 ms (1.2) and 512x512 49 ms (2.1), all far below the
1 s targets.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from benchmarks._measure import time_calls

REPO = Path(__file__).resolve().parents[1]
DEFAULT_HDR = Path("pu21") / "nancy_church.hdr"


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed calls per figure")
    parser.add_argument(
        "--hdr", default=None, help="a Radiance file to decode (default: see above)"
    )
    return parser.parse_args(argv)


def _anchor_workload():
    """The fixed numpy reference computation (inputs built once, outside the timing)."""
    rng = np.random.default_rng(0)
    values = rng.standard_normal(1 << 21)
    image = rng.uniform(0.01, 1.0, (768, 1024, 3)).astype(np.float32)

    def run():
        np.sort(values)
        return float(sum(np.log(np.exp(image)).sum() for _ in range(4)))

    return run


def _radiance_file(argument: str | None, folder: Path) -> tuple[Path, str]:
    if argument:
        return Path(argument), "given"
    data = Path(
        os.environ.get("HDR_KERAS_TEST_DATA", REPO.parent / "shared" / "data")
    )
    if (data / DEFAULT_HDR).is_file():
        return data / DEFAULT_HDR, "test data"
    from hdr_keras.io.radiance import write_hdr
    from hdr_keras.synthetic.scenes import generate_scene

    path = folder / "synthetic_1024x768.hdr"
    write_hdr(path, generate_scene(0, 1024, 768))
    return path, "synthetic"


def main(argv=None) -> int:
    args = _parse_args(argv)
    from hdr_keras.io.radiance import read_hdr
    from hdr_keras.synthetic.scenes import generate_scene
    from hdr_keras.synthetic.stacks import generate_stack

    with tempfile.TemporaryDirectory() as folder:
        hdr_path, origin = _radiance_file(args.hdr, Path(folder))
        shape = read_hdr(hdr_path).shape
        seeds = iter(range(1000))
        cases = [
            (
                f"read_hdr {shape[0]}x{shape[1]} ({origin})",
                lambda: read_hdr(hdr_path),
                1.0,
            ),
            (
                "generate_stack 3x256x256",
                lambda: generate_stack(next(seeds), 256, 256),
                1.0,
            ),
        ]
        for size in (320, 512):
            cases.append(
                (
                    f"generate_scene {size}x{size}",
                    lambda size=size: generate_scene(next(seeds), size, size),
                    None,
                )
            )
        workload = _anchor_workload()
        before = time_calls(workload, 1, args.runs)
        timings = [
            (name, time_calls(call, 1, args.runs), target)
            for name, call, target in cases
        ]
        after = time_calls(workload, 1, args.runs)
    # The anchor is measured before and after the figures; their mean is the unit,
    # and a large drift between them says the machine's load changed meanwhile.
    anchor = (before["median_s"] + after["median_s"]) / 2
    anchor_best = min(before["best_s"], after["best_s"])
    print(
        f"anchor (numpy reference computation): median {before['median_s'] * 1e3:.1f}"
        f" ms before, {after['median_s'] * 1e3:.1f} ms after, best "
        f"{anchor_best * 1e3:.1f} ms ({args.runs} runs each); load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'figure':<36} {'median':>9} {'best':>9} {'anchors':>8} "
        f"{'(best)':>7}  target"
    )
    for name, timing, target in timings:
        median, best = timing["median_s"], timing["best_s"]
        goal = f"< {target:g} s" if target is not None else "-"
        print(
            f"{name:<36} {median * 1e3:7.1f}ms {best * 1e3:7.1f}ms "
            f"{median / anchor:8.2f} {best / anchor_best:7.2f}  {goal}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
