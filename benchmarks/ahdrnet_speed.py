"""AHDRNet forward-pass speed on CPU: 3-frame 256x384 stack, 2 threads.

Usage: python -m benchmarks.ahdrnet_speed [--modes=eager,function,xla] [--runs=7]

For each execution mode (plain Keras call, tf.function, tf.function with XLA
jit_compile) it warms up, then times `--runs` forward passes and prints the median
wall time, the process CPU time per pass, the FLOPs per pixel (counted analytically
from the convolution shapes, cross-checked with TensorFlow's graph profiler) and the
achieved GFLOP/s. The authors report 3.2 s for this size with their PyTorch code;
the target here is <= 2.6 s.

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
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks._measure import graph_flops, time_calls  # noqa: E402

MODES = ("eager", "function", "xla")


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
    for mode in args.modes.split(","):
        forward = forwards[mode]
        timing = time_calls(lambda: np.asarray(forward(inputs)), args.warmup, args.runs)
        wall, cpu, best = timing["median_s"], timing["cpu_s"], timing["best_s"]
        print(
            f"{mode:>8}: median {wall:.3f} s (best {best:.3f} s, CPU {cpu:.2f} s/pass)"
            f"  {flops / wall / 1e9:.1f} GFLOP/s"
        )


if __name__ == "__main__":
    main()
