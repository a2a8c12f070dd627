"""The Markdown report of `benchmarks.run` (table per method, machine, settings)."""

from __future__ import annotations

from typing import Any

# The input pipeline must deliver at least this many times the model's rate.
MIN_PIPELINE_RATIO = 3.0


def pipeline_ratio(result: dict[str, Any]) -> dict[str, Any] | None:
    """Pipeline examples/s over the model's consumption (batch / step time)."""
    pipeline, training = result.get("pipeline"), result.get("training")
    if not pipeline or not training:
        return None
    consumption = training["batch_size"] / training["step_s"]
    ratio = pipeline["examples_per_s"] / consumption
    return {
        "model_examples_per_s": consumption,
        "pipeline_examples_per_s": pipeline["examples_per_s"],
        "ratio": ratio,
        "pipeline_limits_training": ratio < MIN_PIPELINE_RATIO,
    }


def _number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}" if abs(value) < 1e-2 else f"{value:.{digits}f}"


def _size(row: dict[str, Any]) -> str:
    return f"{row['height']}x{row['width']}"


def _notes(result: dict[str, Any]) -> str:
    notes = []
    if result.get("status") in ("crashed", "timeout"):
        notes.append(f"**{result['status']}**: {result.get('status_detail', '')}")
    for phase, error in result.get("errors", {}).items():
        notes.append(f"{phase}: {error}")
    if result.get("training_skipped"):
        notes.append(result["training_skipped"])
    if result.get("pipeline_skipped"):
        notes.append(f"pipeline not measured: {result['pipeline_skipped']}")
    if (result.get("training") or {}).get("inputs") == "synthetic":
        notes.append("train step timed on a synthetic batch")
    ratio = result.get("pipeline_vs_model")
    if ratio and ratio["pipeline_limits_training"]:
        notes.append(f"input pipeline < {MIN_PIPELINE_RATIO:g}x the model's rate")
    partial_flops = []
    for row in result.get("inference", []):
        if row.get("xla_error"):
            notes.append(f"XLA {_size(row)}: {row['xla_error']}")
        if row.get("flops_unknown_shape_ops"):
            partial_flops.append(_size(row))
    if partial_flops:
        notes.append(f"FLOPs ({', '.join(partial_flops)}) miss ops with dynamic shapes")
    return "; ".join(notes).replace("|", "\\|")


def _served_xla(row: dict[str, Any]) -> str:
    if "xla_s" not in row:
        return "–"
    return f"{_number(row['xla_s'], 3)} (+{_number(row['xla_compile_s'], 1)})"


def served_table(report: dict[str, Any]) -> str | None:
    """The served SavedModels against the in-process Keras model, one row per
    method and size; None when no method has served figures."""
    results = [r for r in report["methods"] if r.get("served")]
    if not results:
        return None
    header = [
        "method",
        "size",
        "Keras s",
        "served s",
        "served XLA s (+compile)",
        "XLA / plain max abs diff",
        "auto serves",
        "CPU s (Keras / served / XLA)",
        "notes",
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for result in results:
        served = result["served"]
        auto = served.get("auto") or {}
        choice = auto.get("choice") or "–"
        notes = [f"not timed at {skip}" for skip in served.get("skipped", [])]
        if served.get("xla_error"):
            notes.append(f"XLA: {served['xla_error']}")
        if auto.get("reason"):
            notes.append(f"auto: {auto['reason']}")
        rows = served.get("sizes") or [{}]
        for index, row in enumerate(rows):
            difference = row.get("max_abs_difference")
            cells = [
                f"`{result['method']}`",
                _size(row) if row else "–",
                _number(row.get("keras_s"), 3),
                _number(row.get("plain_s"), 3),
                _served_xla(row),
                f"{difference:.1e}" if difference is not None else "–",
                choice if index == 0 else "",
                " / ".join(
                    _number(row.get(key), 2)
                    for key in ("keras_cpu_s", "plain_cpu_s", "xla_cpu_s")
                ),
                "; ".join(notes).replace("|", "\\|") if index == 0 else "",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SERVED_NOTES = (
    "Served: the method exported by `hdr_keras.export` into a temporary folder, "
    "loaded with `tf.saved_model.load` and its `serving_default` called (batch 1, "
    "validation and display tonemap included); seconds per call, median after "
    "warm-up; served XLA: exported with jit_compile 'on' (the compile time of its "
    "first call at that size apart). Keras s: the in-process tf.function of the "
    "model alone. CPU s: the process's CPU seconds per call (all threads), less "
    "sensitive to other load on the machine than the wall times. auto serves: what `python -m serving.export --jit_compile=auto` "
    "would choose from these figures (XLA when its outputs agree within 1e-5 and "
    "its summed time is lower)."
)


def _simd(machine: dict[str, Any]) -> str:
    """", instruction sets ..., oneDNN on|off" when the machine lists them."""
    if "cpu_features" not in machine:
        return ""
    onednn = {True: "on", False: "off"}.get(machine.get("onednn_enabled"), "unknown")
    features = " ".join(machine["cpu_features"]) or "none listed"
    return f", instruction sets {features}, oneDNN {onednn}"


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: a machine line, the table, and column notes."""
    settings, machine = report["settings"], report["machine"]
    sizes = [f"{h}x{w}" for h, w in settings["sizes"]]
    xla = settings["xla"]
    header = ["method", "kind", "params"]
    header += [f"s/MP {size}" for size in sizes]
    header += [f"XLA s/MP {size}" for size in sizes] if xla else []
    header += [f"CPU s/MP ({sizes[-1]})"]
    header += [
        f"MFLOP/px ({sizes[-1]})",
        "GFLOP/s",
        "train step s (batch, patch)",
        "model ex/s",
        "pipeline ex/s",
        "pipeline / model",
        "peak RSS MiB (infer / train)",
        "notes",
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for result in report["methods"]:
        by_size = {_size(row): row for row in result.get("inference", [])}
        largest = by_size.get(sizes[-1], {})
        cells = [
            f"`{result['method']}`",
            result.get("input_kind", "?"),
            f"{result['parameters']:,}" if "parameters" in result else "–",
        ]
        cells += [_number(by_size.get(s, {}).get("s_per_megapixel")) for s in sizes]
        if xla:
            cells += [
                _number(by_size.get(s, {}).get("xla_s_per_megapixel")) for s in sizes
            ]
        cpu = largest.get("cpu_s")
        cells.append(_number(cpu / largest["megapixels"] if cpu is not None else None))
        flops = largest.get("flops_per_pixel")
        cells += [
            _number(flops / 1e6 if flops is not None else None, 3),
            _number(largest.get("gflops_per_s"), 1),
        ]
        training = result.get("training")
        if training:
            cells.append(
                f"{_number(training['step_s'])} ({training['batch_size']}, "
                f"{training['patch_size']})"
            )
        else:
            cells.append("n/a" if result.get("training_skipped") else "–")
        ratio = result.get("pipeline_vs_model")
        pipeline = result.get("pipeline")
        cells += [
            _number(ratio["model_examples_per_s"]) if ratio else "–",
            _number(pipeline["examples_per_s"], 1) if pipeline else "–",
            (
                (
                    f"{ratio['ratio']:.1f}x"
                    + (" **< 3x**" if ratio["pipeline_limits_training"] else "")
                )
                if ratio
                else "–"
            ),
        ]
        infer_peak = max(
            (row["peak_rss_mib"] for row in result.get("inference", [])), default=None
        )
        train_peak = training.get("peak_rss_mib") if training else None
        cells.append(f"{_number(infer_peak, 0)} / {_number(train_peak, 0)}")
        cells.append(_notes(result))
        lines.append("| " + " | ".join(cells) + " |")
    cores = machine.get("usable_cores")
    intro = (
        f"Machine: {machine.get('cpu')}, {cores} core(s), TF {machine.get('tensorflow')},"
        f" Keras {machine.get('keras')}{_simd(machine)}; load average before the run "
        f"{machine['load_average'][0]:.2f}. Mode: {settings['mode']}, schedule "
        f"`{settings['schedule']}`, {settings['warmup']} warm-up + {settings['runs']}"
        f" timed runs (median; fewer when they would take over "
        f"{settings.get('budget_s')} s), {settings['frames']}-frame stacks. Run took "
        f"{report['duration_s']:.0f} s."
    )
    notes = (
        "s/MP: median wall seconds of one tf.function forward pass (batch 1) per "
        "megapixel of output; CPU s/MP: the process's CPU seconds (all threads) per "
        "megapixel, less sensitive to other load on the machine. MFLOP/px: FLOPs of the frozen inference graph counted "
        "by TensorFlow's FLOP registry (convolutions, matmuls, element-wise ops; "
        "ops it does not know, such as resize, exp or linear solvers, count 0) per "
        "output pixel; GFLOP/s at the largest size. "
        "Train step: median seconds of one Adam step (`train_on_batch`) on the "
        "method's loss view. model ex/s = batch / step time; pipeline ex/s: the "
        "training tf.data pipeline alone; it must be >= 3x the model's rate. Peak "
        "RSS: VmHWM of the method's own subprocess, reset before each phase."
    )
    parts = [intro, "\n".join(lines), notes]
    served = served_table(report)
    if served is not None:
        parts += [served, SERVED_NOTES]
    return "\n\n".join(parts) + "\n"
