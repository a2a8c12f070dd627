"""AHDRNet forward-pass speed on CPU: 3-frame 256x384 stack, 2 threads.

Usage: python -m benchmarks.ahdrnet_speed [--runs=7]
    [--modes=eager,function,xla,served,served_xla]
    [--authors_code=DIR [--torch_python=PY]]

For each execution mode (plain Keras call, tf.function, tf.function with XLA
jit_compile, and the served SavedModel's `serving_default` exported by
`hdr_keras.export` with jit_compile "off" (served) and "on" (served_xla),
validation and display tonemap included) it warms up, then times `--runs` forward
passes and prints the median wall time, the process CPU time per pass, the FLOPs
per pixel (counted analytically from the convolution shapes, cross-checked with
TensorFlow's graph profiler) and the achieved GFLOP/s. The authors report 3.2 s
for this size with their PyTorch code; the target here is <= 2.6 s, and issue #15
asks for the served model at <= 0.8x the authors' PyTorch time measured on the
same machine (`--authors_code`).

`--authors_code=DIR` also times the authors' own PyTorch model (their `model.py`,
class `AHDR` with their defaults: 6 channels per frame, 64 features, 6 dense layers,
growth 32, random weights) on the same size in a separate process
(`--torch_python`, default this interpreter; torch must be importable there),
with the same thread counts, under `torch.inference_mode()`, and prints each
mode's time as a ratio of PyTorch's. DIR is a checkout of the authors' repository
(GitHub qingsenyangit/AHDRNet); nothing of it is part of this project.

Measured 2026-11-24 (TF 2.21, Keras 3.15.1, 2-core AMD EPYC Zen 3 VM, AVX2, idle
machine, 2.893 MFLOP/pixel = 284.4 GFLOP per pass): xla median 2.44 s (117 GFLOP/s),
tf.function 3.18 s, eager Keras call 3.49 s. The machine is shared: under load the
wall times grow (CPU seconds per pass stay about 4-5 s for xla). Notes:
- XLA is the fastest mode: it fuses the element-wise work and its convolutions run
  at ~75 GFLOP/s per core. Without XLA TF uses Eigen convolutions here (oneDNN is
  off by default on this CPU; TF_ENABLE_ONEDNN_OPTS=1 makes the non-XLA path about
  2x slower, and the XLA path about the same).
- channels_first is not an option on CPU (TF's Conv2D kernel is NHWC-only).
- The DRDBs are ~55 % of the FLOPs; their dense layers convolve each part of the
  growing concatenation once with stacked kernels (see DilatedResidualDenseBlock),
  25-30 % less CPU time than the textbook order.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks._measure import graph_flops, time_calls  # noqa: E402

MODES = ("eager", "function", "xla", "served", "served_xla")

# Times the authors' PyTorch AHDR in its own process; prints one JSON line.
TORCH_TIMING = """
import argparse, json, statistics, sys, time
import torch
sys.path.insert(0, sys.argv[1])
from model import AHDR
height, width, warmup, runs, intra, inter = map(int, sys.argv[2:8])
torch.set_num_threads(intra)
torch.set_num_interop_threads(inter)
torch.manual_seed(0)
args = argparse.Namespace(nChannel=6, nDenselayer=6, nFeat=64, growthRate=32)
model = AHDR(args).eval()
frames = [torch.rand(1, 6, height, width) for _ in range(3)]
walls, cpus = [], []
with torch.inference_mode():
    for index in range(warmup + runs):
        start, cpu = time.perf_counter(), time.process_time()
        model(*frames).numpy()
        if index >= warmup:
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
print(json.dumps({"median_s": statistics.median(walls), "best_s": min(walls),
                  "cpu_s": statistics.median(cpus),
                  "torch": torch.__version__,
                  "mkldnn": torch.backends.mkldnn.is_available()}))
"""


def _parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=384)
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--runs", type=int, default=7, help="timed runs (>= 5)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--intra", type=int, default=2, help="intra-op threads")
    parser.add_argument("--inter", type=int, default=1, help="inter-op threads")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument(
        "--no-profiler", action="store_true", help="skip the graph FLOP cross-check"
    )
    parser.add_argument(
        "--authors_code",
        help="checkout of the authors' AHDRNet repository: also time their PyTorch "
        "model and print the ratios",
    )
    parser.add_argument(
        "--torch_python",
        default=sys.executable,
        help="Python interpreter with torch for --authors_code (default: this one)",
    )
    return parser.parse_args()


def conv_flops_per_pixel(model) -> int:
    """2 x multiply-adds per output pixel of every (stride-1) Conv2D call in `model`.

    A layer applied k times (AHDRNet's shared conv1) counts k times; convolutions
    inside custom layers count once per call of their parent. Bias additions and
    element-wise operations are not included.
    """
    import keras

    total = 0
    for layer in model.layers:
        calls = len(layer._inbound_nodes)
        convs = [layer] if isinstance(layer, keras.layers.Conv2D) else []
        convs += [
            sub
            for sub in layer._flatten_layers(include_self=False, recursive=True)
            if isinstance(sub, keras.layers.Conv2D)
        ]
        for conv in convs:
            kh, kw, cin, cout = conv.kernel.shape
            total += 2 * kh * kw * cin * cout * calls
    return total


def profiler_flops(model, inputs) -> int:
    """FLOPs of the frozen inference graph, by TensorFlow's graph FLOP registry."""
    spec = {k: tf.TensorSpec(v.shape, v.dtype) for k, v in inputs.items()}
    forward = tf.function(lambda x: model(x, training=False))
    return graph_flops(forward, spec)["total"]


def main():
    args = _parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.intra)
    tf.config.threading.set_inter_op_parallelism_threads(args.inter)
    import keras

    from hdr_keras.methods.ahdrnet import build_ahdrnet

    keras.utils.set_random_seed(0)
    model = build_ahdrnet(num_frames=args.frames)
    rng = np.random.default_rng(0)
    shape = (1, args.frames, args.height, args.width, 3)
    inputs = {
        "ldr": tf.constant(rng.uniform(0, 1, shape).astype("float32")),
        "exposure": tf.constant(
            np.arange(args.frames, dtype="float32")[None] * 2.0, dtype=tf.float32
        ),
    }
    pixels = args.height * args.width
    flops = conv_flops_per_pixel(model) * pixels
    print(
        f"AHDRNet forward, {args.frames} frames {args.height}x{args.width}, "
        f"threads intra={args.intra} inter={args.inter}, TF {tf.__version__}, "
        f"Keras {keras.__version__}, load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"FLOPs: {flops / pixels / 1e6:.3f} MFLOP/pixel (convolutions), "
        f"{flops / 1e9:.1f} GFLOP per pass"
    )
    if not args.no_profiler:
        graph_flops = profiler_flops(model, inputs)
        print(
            f"  TF graph profiler: {graph_flops / pixels / 1e6:.3f} MFLOP/pixel "
            "(includes bias adds and element-wise ops)"
        )

    forwards = {
        "eager": lambda x: model(x, training=False),
        "function": tf.function(lambda x: model(x, training=False)),
        "xla": tf.function(lambda x: model(x, training=False), jit_compile=True),
    }
    medians = {}
    with tempfile.TemporaryDirectory(prefix="ahdrnet_speed_") as folder:
        for mode in args.modes.split(","):
            if mode not in MODES:
                raise SystemExit(f"--modes: unknown {mode!r}; known: {MODES}")
            if mode.startswith("served"):
                forward = served_function(model, folder, mode == "served_xla")
            else:
                forward = forwards[mode]
            timing = time_calls(
                lambda: np.asarray(forward(inputs)), args.warmup, args.runs
            )
            wall, cpu, best = timing["median_s"], timing["cpu_s"], timing["best_s"]
            medians[mode] = wall
            print(
                f"{mode:>10}: median {wall:.3f} s (best {best:.3f} s, CPU {cpu:.2f} "
                f"s/pass)  {flops / wall / 1e9:.1f} GFLOP/s"
            )
    if args.authors_code:
        torch_timing = authors_pytorch(args)
        wall = torch_timing["median_s"]
        print(
            f"{'pytorch':>10}: median {wall:.3f} s (best {torch_timing['best_s']:.3f}"
            f" s, CPU {torch_timing['cpu_s']:.2f} s/pass)  {flops / wall / 1e9:.1f} "
            "GFLOP/s; the authors' AHDR, torch "
            f"{torch_timing['torch']}, mkldnn {torch_timing['mkldnn']}"
        )
        for mode, median in medians.items():
            print(f"{mode:>10}: {median / wall:.2f}x the PyTorch time")


def served_function(model, folder: str, jit_compile: bool):
    """`serving_default` of the model exported with jit_compile on/off and loaded
    back, as a function of the model's input dict returning "hdr"."""
    from hdr_keras.export import export_model

    mode = "on" if jit_compile else "off"
    path = export_model(model, f"{folder}/{mode}", "stack", jit_compile=mode)
    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    return lambda x: signature(ldr=x["ldr"], exposure=x["exposure"])["hdr"]


def authors_pytorch(args) -> dict:
    """The authors' PyTorch model timed in a subprocess (see TORCH_TIMING)."""
    command = [
        args.torch_python,
        "-c",
        TORCH_TIMING,
        args.authors_code,
        *map(str, (args.height, args.width, args.warmup, args.runs)),
        *map(str, (args.intra, args.inter)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(
            f"--authors_code={args.authors_code}: timing the PyTorch model failed "
            f"with {args.torch_python}:\n{done.stderr.strip()[-2000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
