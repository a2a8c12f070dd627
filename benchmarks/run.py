"""Performance benchmarks of every registered method: JSON plus a Markdown table.

    python -m benchmarks.run --out=/tmp/bench/full.json            # paper sizes
    python -m benchmarks.run --quick --out=/tmp/bench/quick.json   # a few minutes
    python -m benchmarks.run --methods=ahdrnet,wu_unet --xla --out=bench.json

For each method of `hdr_keras.list_methods()` (or `--methods`), in a subprocess of
its own (`benchmarks._method`: independent memory figures; a crash, an error or a
timeout is reported in the table and the run goes on):
- inference seconds per megapixel at each `--sizes` (default 512x512 and
  1000x1500; median of `--runs` tf.function calls after warm-up; `--xla` adds
  the same with XLA), FLOPs per pixel of the graph and the achieved GFLOP/s;
- the served SavedModel (`hdr_keras.export`, exported to a temporary folder and
  loaded with `tf.saved_model.load`) at each `--served_sizes` (default 256x384
  and 1000x1500): `serving_default`'s seconds per call without and with XLA
  (jit_compile "off" and "on"; XLA's compile time apart), next to the in-process
  Keras tf.function at the same size, the max abs difference of the two served
  outputs, and which one the export's `--jit_compile=auto` would choose. In
  `--quick` mode a size whose projected time exceeds `--served_budget_s` (120 s)
  is skipped, and the table says so;
- the training step time (Adam on the method's loss view) at the `paper`
  schedule's batch and patch size of `training/configs.py` (`quick` schedule in
  `--quick` mode); training-free methods have none;
- the throughput of the real training tf.data pipeline (built-in data, or
  `--data=GLOB`) against the model's consumption rate (batch / step time), with a
  flag when it is below 3x;
- peak resident memory (VmHWM) of inference and of training.
Writes FILE.json (machine info, settings, every figure) and FILE.md (the table,
also printed). Timings on a shared machine are noisy: check the load average.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python benchmarks/run.py` works too
    sys.path.insert(0, str(REPO))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks import _report  # noqa: E402

# Settings of each mode; flags override them one by one.
MODES: dict[str, dict[str, Any]] = {
    "full": {
        "sizes": [[512, 512], [1000, 1500]],
        "served_sizes": [[256, 384], [1000, 1500]],
        "served_budget_s": None,
        "warmup": 1,
        "runs": 5,
        "train_warmup": 1,
        "train_runs": 3,
        "pipeline_batches": 20,
        "schedule": "paper",
        "flops_at": "all",
        "timeout": 3600,
        "data_timeout": 3600,
        "budget_s": 300,
    },
    "quick": {
        "sizes": [[128, 128], [256, 384]],
        "served_sizes": [[256, 384], [1000, 1500]],
        "served_budget_s": 120,
        "warmup": 1,
        "runs": 2,
        "train_warmup": 1,
        "train_runs": 2,
        "pipeline_batches": 8,
        "schedule": "quick",
        "flops_at": "largest",
        "timeout": 600,
        "data_timeout": 240,
        "budget_s": 20,
    },
    # For tests: the smallest figures that exercise every phase.
    "tiny": {
        "sizes": [[32, 48]],
        "served_sizes": [[32, 48]],
        "served_budget_s": None,
        "warmup": 1,
        "runs": 1,
        "train_warmup": 1,
        "train_runs": 1,
        "pipeline_batches": 2,
        "schedule": "quick",
        "batch_size": 2,
        "patch_size": 32,
        "flops_at": "largest",
        "timeout": 300,
        "data_timeout": 300,
        "budget_s": 10,
    },
}
OUTPUT_TAIL_LINES = 25
INTERRUPT_GRACE_S = 60.0  # after SIGINT, before SIGKILL
DATA_READY = "bench: built-in data ready"  # printed by `_method --prepare`


def _served_sizes(text: str) -> list[list[int]]:
    return [] if text.strip().lower() == "none" else _sizes(text)


def _sizes(text: str) -> list[list[int]]:
    sizes = []
    for item in text.split(","):
        try:
            height, width = (int(v) for v in item.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--sizes: {item!r} is not HEIGHTxWIDTH (e.g. 512x512,1000x1500)"
            ) from None
        if height < 1 or width < 1:
            raise argparse.ArgumentTypeError(f"--sizes: {item!r} must be positive")
        sizes.append([height, width])
    return sizes


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, help="FILE.json (FILE.md beside it)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes, few runs")
    mode.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--methods", default="", help="a,b,... (default: all)")
    parser.add_argument("--sizes", type=_sizes, help="HxW,... inference sizes")
    parser.add_argument(
        "--served_sizes",
        type=_served_sizes,
        help="HxW,... sizes of the served SavedModel timing, or none",
    )
    parser.add_argument(
        "--served_budget_s",
        type=float,
        help="skip a served size whose projected seconds exceed this",
    )
    parser.add_argument("--runs", type=int, help="timed inference runs")
    parser.add_argument("--warmup", type=int, help="untimed inference runs")
    parser.add_argument("--train_runs", type=int, help="timed training steps")
    parser.add_argument("--train_warmup", type=int, help="untimed training steps")
    parser.add_argument("--pipeline_batches", type=int, help="batches timed")
    parser.add_argument("--schedule", choices=("paper", "quick"))
    parser.add_argument("--batch_size", type=int, help="override the schedule's")
    parser.add_argument("--patch_size", type=int, help="override the schedule's")
    parser.add_argument("--stage", help="stage of multi-stage methods (default last)")
    parser.add_argument(
        "--data", help="TFRecord glob for the pipeline (default built-in)"
    )
    parser.add_argument("--frames", type=int, default=3, help="frames of stack inputs")
    parser.add_argument("--xla", action="store_true", help="also time with XLA")
    parser.add_argument("--timeout", type=float, help="seconds per method")
    parser.add_argument(
        "--budget_s",
        type=float,
        help="seconds per timed measurement: fewer runs (>= 1) when slower",
    )
    parser.add_argument(
        "--data_timeout", type=float, help="seconds to write a built-in data set"
    )
    parser.add_argument("--verbose", action="store_true", help="echo all worker output")
    args = parser.parse_args(argv)
    for name in ("runs", "train_runs", "pipeline_batches", "frames"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be >= 1, got {value}")
    return args


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The mode's settings with the flags that were given applied on top."""
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    settings = {"mode": mode, "batch_size": None, "patch_size": None, **MODES[mode]}
    for name in (
        "sizes",
        "served_sizes",
        "served_budget_s",
        "runs",
        "warmup",
        "train_runs",
        "train_warmup",
        "pipeline_batches",
        "schedule",
        "batch_size",
        "patch_size",
        "timeout",
        "data_timeout",
        "budget_s",
    ):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    settings.update(stage=args.stage, data=args.data, frames=args.frames, xla=args.xla)
    return settings


def select_methods(text: str) -> list[str]:
    """Registered methods named in --methods (all when empty); unknown ones raise."""
    import hdr_keras

    known = hdr_keras.list_methods()
    if not text:
        return known
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise ValueError(
            f"--methods: unknown {', '.join(unknown)}; registered: {', '.join(known)}"
        )
    return chosen


def _data_key(method: str):
    """Methods with equal keys train on the same built-in data (as chosen by
    `training.data.builtin_patterns`); None: no training configuration."""
    import hdr_keras
    from training import configs, data

    if method not in configs.CONFIGS:
        return None
    spec = hdr_keras.get_method(method)
    return (
        spec.input_kind,
        data.trains_on_aligned_patches(spec),
        data.trains_on_camera_shots(spec),
    )


def prepare_builtin_data(
    methods: list[str], timeout: float, verbose: bool = False
) -> dict[str, str]:
    """Writes the built-in training sets of `methods` (first use only).

    Each set is written by a subprocess given `timeout` seconds (interrupted
    cleanly after that: the set is written again on its next use). Returns
    {method: reason} for the methods whose data is not ready.
    """
    groups: dict[Any, list[str]] = {}
    for method in methods:
        key = _data_key(method)
        if key is not None:
            groups.setdefault(key, []).append(method)
    unavailable = {}
    for members in groups.values():
        print(f"  built-in training data of {', '.join(members)}", flush=True)
        command = [
            sys.executable,
            "-m",
            "benchmarks._method",
            "--prepare",
            f"--method={members[0]}",
        ]
        returncode, timed_out, tail = run_worker(command, timeout, verbose)
        if any(line.startswith(DATA_READY) for line in tail):
            continue  # written (the interpreter may have been slow to exit)
        if timed_out:
            reason = (
                f"built-in training data not written within {timeout:g} s (it is "
                "written once, on first use: run `python -m training.main "
                f"--method={members[0]}` or this benchmark with a larger "
                "--data_timeout, or pass --data)"
            )
        elif returncode != 0:
            last = next((line for line in reversed(tail) if line.strip()), "")
            reason = f"built-in training data failed: {last[:300]}"
        else:
            continue
        print(f"    {reason}", flush=True)
        unavailable.update({method: reason for method in members})
    return unavailable


def run_worker(
    command: list[str], timeout: float, verbose: bool = False
) -> tuple[int, bool, list[str]]:
    """Runs `command`, echoing its "bench: " lines; (returncode, timed out, tail)."""
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    timed_out = threading.Event()

    def kill() -> None:
        # SIGINT first: `finally` blocks run (e.g. a half-written dataset's
        # staging folder is removed); SIGKILL if that does not end it.
        timed_out.set()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(INTERRUPT_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    tail: collections.deque = collections.deque(maxlen=OUTPUT_TAIL_LINES)
    try:
        for line in process.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            if verbose or line.startswith("bench: "):
                print(f"    {line.removeprefix('bench: ')}", flush=True)
        process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, timed_out.is_set(), list(tail)


def collect(
    method: str,
    result_path: Path,
    returncode: int,
    timed_out: bool,
    tail: list[str],
    timeout: float,
) -> dict[str, Any]:
    """The method's result: what its worker wrote, with a status for the table."""
    try:
        result = json.loads(result_path.read_text())
    except (OSError, ValueError):
        result = {"method": method, "errors": {}}
    finished = result.get("phase") == "done"
    if timed_out:
        result["status"] = "timeout"
        result["status_detail"] = (
            f"killed after {timeout:g} s during {result.get('phase', 'start-up')}"
        )
    elif returncode != 0 or not finished:
        last = next((line for line in reversed(tail) if line.strip()), "")
        result["status"] = "crashed"
        result["status_detail"] = (
            f"exit status {returncode} during {result.get('phase', 'start-up')}: "
            f"{last[:300]}"
        )
    elif result.get("errors"):
        result["status"] = "error"
    else:
        result["status"] = "ok"
    if result["status"] in ("timeout", "crashed"):
        result["output_tail"] = tail
    ratio = _report.pipeline_ratio(result)
    if ratio is not None:
        result["pipeline_vs_model"] = ratio
    return result


def benchmark_method(
    method: str, settings: dict[str, Any], workdir: Path, verbose: bool = False
) -> dict[str, Any]:
    """Measures `method` in its own subprocess."""
    result_path = workdir / f"{method}.json"
    command = [
        sys.executable,
        "-m",
        "benchmarks._method",
        f"--method={method}",
        f"--settings={json.dumps(settings)}",
        f"--result={result_path}",
    ]
    start = time.perf_counter()
    returncode, timed_out, tail = run_worker(command, settings["timeout"], verbose)
    result = collect(
        method, result_path, returncode, timed_out, tail, settings["timeout"]
    )
    result["wall_s"] = time.perf_counter() - start
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    settings = resolve_settings(args)
    out = Path(args.out)
    if out.suffix != ".json":
        print(f"error: --out={out} must end in .json", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        methods = select_methods(args.methods)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from benchmarks._measure import machine_info

    machine = machine_info()
    print(
        f"benchmarking {len(methods)} method(s) in {settings['mode']} mode on "
        f"{machine['cpu']} ({machine['usable_cores']} cores, load "
        f"{machine['load_average'][0]:.2f}), TF {machine['tensorflow']}"
    )
    onednn = {True: "on", False: "off", None: "unknown"}[machine["onednn_enabled"]]
    print(
        f"instruction sets: {' '.join(machine['cpu_features']) or 'none listed'}; "
        f"oneDNN {onednn} (TF_ENABLE_ONEDNN_OPTS={machine['onednn']})"
    )
    unavailable = {}
    if settings["data"] is None:
        unavailable = prepare_builtin_data(
            methods, settings["data_timeout"], args.verbose
        )
    results = []
    with tempfile.TemporaryDirectory(prefix="hdr_keras_bench_") as workdir:
        for index, method in enumerate(methods, 1):
            print(f"[{index}/{len(methods)}] {method}", flush=True)
            method_settings = dict(
                settings, pipeline_unavailable=unavailable.get(method)
            )
            result = benchmark_method(
                method, method_settings, Path(workdir), args.verbose
            )
            print(f"    {result['status']} in {result['wall_s']:.0f} s", flush=True)
            results.append(result)
    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(["python -m benchmarks.run", *(argv or sys.argv[1:])]),
        "machine": machine,
        "settings": settings,
        "duration_s": time.perf_counter() - start,
        "methods": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    table = _report.markdown(report)
    out.with_suffix(".md").write_text(table)
    print()
    print(table)
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
