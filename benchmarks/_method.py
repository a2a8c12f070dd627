"""Measures one registered method in this process; `benchmarks.run` starts one
subprocess per method so that memory figures are independent and a crash of one
method does not stop the others.

    python -m benchmarks._method --method=NAME --settings=JSON --result=FILE

Phases, in order (each one's failure is recorded and the next still runs):
1. build: `hdr_keras.build_model(NAME)` with seed 0 (random weights).
2. inference at each size: a tf.function of `model(x, training=False)`, warm-up
   calls, then the median of timed calls (output copied to the host); the graph's
   FLOPs; optionally the same with XLA (`jit_compile=True`); peak RSS.
3. served: the method exported as a SavedModel twice (`hdr_keras.export`,
   jit_compile "off" and "on") into a temporary folder, each loaded with
   `tf.saved_model.load` and its `serving_default` timed at each `served_sizes`
   size (warm-up, then the median; XLA's first call, which compiles, is timed
   apart), next to the in-process Keras tf.function at the same size, with the
   max abs difference of the two served outputs and the export's "auto" choice
   by its rule (`hdr_keras.export.xla`). A size whose projected time (the Keras
   s/MP measured so far, times the calls it needs) exceeds `served_budget_s` is
   skipped and the reason recorded.
4. pipeline: examples/s of the method's real training input pipeline
   (`training.data.load`, i.e. what `python -m training.main` feeds to `fit`).
5. training: Adam steps (`train_on_batch`) on the method's loss view
   (`MethodSpec.loss_model`, or the measured stage's) with the config's loss, on
   a batch of that pipeline, at the schedule's batch and patch size.
The result JSON is rewritten after every phase, so a crash keeps what was measured.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks._measure import MIB, PeakMemory, graph_flops, time_calls  # noqa: E402

STACK_STOPS = 2.0  # exposure step between frames of the synthetic input stacks


def progress(message: str) -> None:
    """A progress line; `benchmarks.run` echoes lines with this prefix."""
    print(f"bench: {message}", flush=True)


def _error_text(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    return f"{type(error).__name__}: {first}"[:400]


def synthetic_scene(input_kind: str, height: int, width: int, frames: int):
    """(inputs, hdr): a smooth HDR scene seen by a gamma-2.2 camera.

    Single-image methods get the middle exposure [1, H, W, 3] and its linear
    radiance; stack methods get {"ldr": [1, N, H, W, 3], "exposure": [1, N]} at
    0, 2, 4, ... stops and the radiance in units of the shortest exposure,
    clipped to [0, 1] (the stack data's convention).
    """
    import numpy as np
    import tensorflow as tf

    from hdr_keras.ops.exposure import ev_to_time, hdr_to_ldr
    from hdr_keras.spec import SINGLE

    rng = np.random.default_rng(0)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    tint = np.array([1.0, 0.85, 0.7], np.float32)
    log_radiance = -4.0 + 5.0 * x + np.sin(11.0 * x + 7.0 * y) * np.cos(5.0 * y)
    hdr = np.exp(log_radiance) * tint
    hdr *= 1.0 + 0.05 * rng.standard_normal((height, width, 3)).astype(np.float32)
    hdr = hdr.astype(np.float32)
    stops = np.arange(frames, dtype=np.float32) * STACK_STOPS
    times = [float(ev_to_time(ev)) for ev in stops]
    stack = np.stack([np.asarray(hdr_to_ldr(hdr, t)) for t in times]).astype("float32")
    if input_kind == SINGLE:
        middle = frames // 2
        return tf.constant(stack[middle][None]), tf.constant(hdr[None] * times[middle])
    inputs = {"ldr": tf.constant(stack[None]), "exposure": tf.constant(stops[None])}
    return inputs, tf.constant(np.clip(hdr, 0.0, 1.0)[None])


def synthetic_inputs(input_kind: str, height: int, width: int, frames: int):
    """The model inputs of `synthetic_scene`."""
    return synthetic_scene(input_kind, height, width, frames)[0]


def synthetic_batch(input_kind: str, batch: int, patch: int, frames: int, stage):
    """A training batch of `batch` copies of a synthetic patch (stage targets too)."""
    import tensorflow as tf

    inputs, target = synthetic_scene(input_kind, patch, patch, frames)
    inputs, target = tf.nest.map_structure(
        lambda t: tf.repeat(t, batch, axis=0), (inputs, target)
    )
    if stage is not None and stage.targets is not None:
        target = stage.targets(inputs, target)
    return inputs, target


def _specs(inputs):
    import tensorflow as tf

    return tf.nest.map_structure(lambda t: tf.TensorSpec(t.shape, t.dtype), inputs)


def measure_inference(
    model, input_kind: str, height: int, width: int, settings, count_flops=True
):
    """Time per megapixel, peak RSS and (`count_flops`) FLOPs/pixel and GFLOP/s."""
    import numpy as np
    import tensorflow as tf

    inputs = synthetic_inputs(input_kind, height, width, settings["frames"])
    megapixels = height * width / 1e6
    forward = tf.function(lambda x: model(x, training=False))

    def call(function):
        return lambda: tf.nest.map_structure(np.asarray, function(inputs))

    with PeakMemory() as memory:
        timing = time_calls(
            call(forward), settings["warmup"], settings["runs"], settings["budget_s"]
        )
    row: dict[str, Any] = {
        "height": height,
        "width": width,
        "megapixels": megapixels,
        **timing,
        "s_per_megapixel": timing["median_s"] / megapixels,
        **memory.as_dict(),
    }
    flops = graph_flops(forward, _specs(inputs)) if count_flops else None
    if flops is not None:
        row["flops_per_pixel"] = flops["total"] / (height * width)
        row["flops_by_op"] = flops["by_op"]
        row["flops_unknown_shape_ops"] = flops["unknown_shape_ops"]
        row["flops_uncounted_ops"] = flops["uncounted_ops"]
        row["gflops_per_s"] = flops["total"] / timing["median_s"] / 1e9
    if settings["xla"]:
        try:
            xla = tf.function(lambda x: model(x, training=False), jit_compile=True)
            xla_timing = time_calls(
                call(xla), settings["warmup"], settings["runs"], settings["budget_s"]
            )
            row["xla_median_s"] = xla_timing["median_s"]
            row["xla_s_per_megapixel"] = xla_timing["median_s"] / megapixels
            if flops is not None:
                row["xla_gflops_per_s"] = flops["total"] / xla_timing["median_s"] / 1e9
        except Exception as error:  # noqa: BLE001 - reported in the table
            row["xla_error"] = _error_text(error)
    return row


# Calls of the served phase at one size: plain and XLA each make a first call
# (XLA's compiles), the warm-up calls and at least one timed call.
def _served_calls(settings) -> int:
    return 2 * (2 + settings["warmup"])


def projected_served_s(result: dict, height: int, width: int, settings) -> float | None:
    """Seconds the served phase would take at `height` x `width`, projected from
    the largest Keras inference measured (s/MP x megapixels x calls); None when
    there is no Keras figure to project from."""
    rows = result.get("inference") or []
    if not rows:
        return None
    largest = max(rows, key=lambda row: row["megapixels"])
    per_call = largest["s_per_megapixel"] * height * width / 1e6
    return per_call * _served_calls(settings)


def _served_call(signature, input_kind: str, inputs):
    """A call of a loaded `serving_default` returning its outputs on the host."""
    import numpy as np

    from hdr_keras.spec import SINGLE

    if input_kind == SINGLE:
        return lambda: {k: np.asarray(v) for k, v in signature(ldr=inputs).items()}
    return lambda: {
        k: np.asarray(v)
        for k, v in signature(ldr=inputs["ldr"], exposure=inputs["exposure"]).items()
    }


def measure_served(model, spec, result: dict, settings, save=None) -> dict:
    """The served phase (see the module docstring): {"sizes": [rows], "auto": ...}."""
    import numpy as np
    import tensorflow as tf

    from hdr_keras.export import export_model, xla

    served: dict[str, Any] = {"sizes": [], "skipped": []}
    keras_rows = {(r["height"], r["width"]): r for r in result.get("inference", [])}
    sizes = []
    for height, width in settings["served_sizes"]:
        projected = projected_served_s(result, height, width, settings)
        budget = settings.get("served_budget_s")
        if budget is not None and projected is not None and projected > budget:
            served["skipped"].append(
                f"{height}x{width}: projected {projected:.0f} s > budget {budget:g} s"
            )
            progress(f"{spec.name}: served {served['skipped'][-1]}")
            continue
        sizes.append((height, width))
    with tempfile.TemporaryDirectory(prefix="hdr_keras_served_") as folder:
        start = time.perf_counter()
        plain_path = export_model(  # the flow's own XLA programs kept
            model,
            Path(folder) / "off",
            spec.input_kind,
            method=spec.name,
            jit_compile=xla.plain_mode(model),
        )
        served["export_s"] = time.perf_counter() - start
        try:
            xla_path = export_model(
                model,
                Path(folder) / "on",
                spec.input_kind,
                method=spec.name,
                jit_compile="on",
            )
        except ValueError as error:
            xla_path, served["xla_error"] = None, str(error)
            progress(f"{spec.name}: served XLA: {error}"[:300])
        plain_fn = tf.saved_model.load(str(plain_path)).signatures["serving_default"]
        xla_fn = None
        if xla_path is not None:
            xla_fn = tf.saved_model.load(str(xla_path)).signatures["serving_default"]
        for height, width in sizes:
            progress(f"{spec.name}: served {height}x{width}")
            frames = settings["frames"]
            inputs = synthetic_inputs(spec.input_kind, height, width, frames)
            row: dict[str, Any] = {"height": height, "width": width}
            keras_row = keras_rows.get((height, width))
            if keras_row is None:  # the Keras tf.function at this size
                forward = tf.function(lambda x: model(x, training=False))
                keras_row = time_calls(
                    lambda: tf.nest.map_structure(np.asarray, forward(inputs)),
                    settings["warmup"],
                    settings["runs"],
                    settings["budget_s"],
                )
            row["keras_s"] = keras_row["median_s"]
            row["keras_cpu_s"] = keras_row["cpu_s"]
            call = _served_call(plain_fn, spec.input_kind, inputs)
            plain_out = call()
            timing = time_calls(
                call, settings["warmup"], settings["runs"], settings["budget_s"]
            )
            row.update(
                plain_s=timing["median_s"],
                plain_cpu_s=timing["cpu_s"],
                plain_runs=timing["runs"],
            )
            if xla_fn is not None:
                call = _served_call(xla_fn, spec.input_kind, inputs)
                first = time.perf_counter()
                xla_out = call()
                first = time.perf_counter() - first
                timing = time_calls(
                    call, settings["warmup"], settings["runs"], settings["budget_s"]
                )
                row.update(
                    xla_s=timing["median_s"],
                    xla_cpu_s=timing["cpu_s"],
                    xla_runs=timing["runs"],
                    xla_compile_s=max(0.0, first - timing["median_s"]),
                    max_abs_difference=xla.max_abs_difference(plain_out, xla_out),
                )
            served["sizes"].append(row)
            message = (
                f"{spec.name}: {height}x{width} Keras {row['keras_s']:.3f} s, "
                f"served {row['plain_s']:.3f} s"
            )
            if "xla_s" in row:
                message += (
                    f", served XLA {row['xla_s']:.3f} s (+{row['xla_compile_s']:.1f}"
                    f" s compile, max abs difference {row['max_abs_difference']:.2g})"
                )
            progress(message)
            if save is not None:
                result["served"] = served
                save(result)
    served["auto"] = auto_choice(served)
    return served


def auto_choice(served: dict) -> dict:
    """What `jit_compile="auto"` would choose from these served figures, by its
    rule (`hdr_keras.export.xla.RULE`): XLA when it compiles, agrees within the
    tolerance at every size and its summed per-call times are lower."""
    from hdr_keras.export import xla

    rows = served["sizes"]
    if served.get("xla_error"):
        return {"choice": "plain", "reason": "XLA export refused"}
    if not rows:
        return {"choice": None, "reason": "no size measured"}
    worst = max(row["max_abs_difference"] for row in rows)
    if worst > xla.TOLERANCE:
        return {
            "choice": "plain",
            "reason": f"outputs differ by {worst:.2g} > {xla.TOLERANCE:g}",
        }
    plain, compiled = xla.summed_times(rows)
    choice = "xla" if compiled < plain else "plain"
    return {
        "choice": choice,
        "reason": f"summed {compiled:.3f} s XLA vs {plain:.3f} s plain",
    }


def _stage(config, name: str | None):
    """The stage of a multi-stage config to measure (default: the last one)."""
    if not config.stages:
        if name:
            raise ValueError(f"--stage={name}: the method has a single stage")
        return None
    names = [stage.name for stage in config.stages]
    if name is None:
        return config.stages[-1]
    if name not in names:
        raise ValueError(f"--stage={name}: stages are {', '.join(names)}")
    return config.stages[names.index(name)]


def training_setup(spec, model, settings):
    """(config, stage, batch, patch) or a reason string when there is no training."""
    from training import configs

    try:
        config = configs.get_config(spec.name)
    except ValueError as error:
        if not model.trainable_weights:
            return "training-free (no trainable weights)"
        raise ValueError(f"trainable method without a training config: {error}")
    schedule = getattr(config, settings["schedule"])
    batch = settings["batch_size"] or schedule.batch_size
    patch = settings["patch_size"] or schedule.patch_size
    return config, _stage(config, settings["stage"]), batch, patch


def measure_pipeline(spec, settings, batch: int, patch: int, stage):
    """Examples/s of the training input pipeline, and its first batch."""
    from training import data

    method_data = data.load(spec, settings["data"], settings["data"], batch, patch, 0)
    targets = stage.targets if stage is not None else None
    dataset = method_data.train(0) if targets is None else method_data.train(0, targets)
    with PeakMemory() as memory:
        start = time.perf_counter()
        iterator = iter(dataset)
        first = next(iterator)
        startup = time.perf_counter() - start
        count = settings["pipeline_batches"]
        start = time.perf_counter()
        for _ in range(count):
            next(iterator)
        elapsed = time.perf_counter() - start
    del iterator, dataset, method_data
    gc.collect()
    return first, {
        "data": settings["data"] or "built-in",
        "batch_size": batch,
        "patch_size": patch,
        "batches": count,
        "startup_s": startup,
        "examples_per_s": count * batch / elapsed,
        **memory.as_dict(),
    }


def measure_training(spec, model, config, stage, batch_data, settings):
    """Seconds per Adam step on the loss view, as `training.main` compiles it."""
    import keras

    import hdr_keras

    if stage is not None and stage.train:
        model.trainable = False
        hdr_keras.unfreeze(model, stage.train, method=spec.name)
    loss_view = stage.loss_model if stage is not None and stage.loss_model else None
    train_model = (loss_view or spec.loss_model)(model)
    learning_rate = config.learning_rate
    if stage is not None and stage.learning_rate:
        learning_rate = stage.learning_rate
    loss = stage.loss() if stage is not None else config.loss()
    train_model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, beta_1=config.beta_1),
        loss=loss,
    )
    inputs, target = batch_data
    with PeakMemory() as memory:
        timing = time_calls(
            lambda: train_model.train_on_batch(inputs, target),
            settings["train_warmup"],
            settings["train_runs"],
            settings["budget_s"],
        )
    return {
        "stage": stage.name if stage is not None else None,
        **timing,
        "step_s": timing["median_s"],
        "trainable_parameters": int(
            sum(int(v.shape.num_elements()) for v in train_model.trainable_weights)
        ),
        **memory.as_dict(),
    }


def _training_phases(spec, model, settings, result, failed, save) -> list[float]:
    """The pipeline and training phases; returns their peak RSS values (bytes)."""
    method, peaks = spec.name, []
    try:
        setup = training_setup(spec, model, settings)
    except Exception as error:  # noqa: BLE001 - reported in the table
        failed("training", error)
        return peaks
    if isinstance(setup, str):
        result["training_skipped"] = setup
        progress(f"{method}: {setup}")
        return peaks
    config, stage, batch, patch = setup
    batch_data, training_inputs = None, "pipeline"
    if settings.get("pipeline_unavailable"):
        result["pipeline_skipped"] = settings["pipeline_unavailable"]
        progress(f"{method}: no input pipeline: {result['pipeline_skipped']}")
    else:
        progress(f"{method}: input pipeline, batch {batch}, patch {patch}")
        try:
            batch_data, result["pipeline"] = measure_pipeline(
                spec, settings, batch, patch, stage
            )
            peaks.append(result["pipeline"]["peak_rss_mib"] * MIB)
        except Exception as error:  # noqa: BLE001
            failed("pipeline", error)
    result["phase"] = "training"
    save(result)
    try:
        if batch_data is None:  # time the step on a synthetic batch instead
            training_inputs = "synthetic"
            batch_data = synthetic_batch(
                spec.input_kind, batch, patch, settings["frames"], stage
            )
        progress(f"{method}: training step, batch {batch}, patch {patch}")
        training = measure_training(spec, model, config, stage, batch_data, settings)
    except Exception as error:  # noqa: BLE001
        failed("training", error)
        return peaks
    training.update(batch_size=batch, patch_size=patch, inputs=training_inputs)
    result["training"] = training
    peaks.append(training["peak_rss_mib"] * MIB)
    progress(f"{method}: {training['step_s']:.2f} s/step")
    return peaks


def measure(method: str, settings: dict, save) -> dict:
    """All phases for `method`; `save(result)` is called after each phase."""
    result: dict[str, Any] = {"method": method, "errors": {}, "phase": "import"}
    save(result)
    import keras

    import hdr_keras

    def failed(phase: str, error: BaseException) -> None:
        traceback.print_exc()
        result["errors"][phase] = _error_text(error)
        progress(f"{phase} failed: {result['errors'][phase]}")

    spec = hdr_keras.get_method(method)
    result.update(input_kind=spec.input_kind, paper=spec.paper, phase="build")
    save(result)
    keras.utils.set_random_seed(0)
    try:
        with PeakMemory() as memory:
            model = hdr_keras.build_model(method)
    except Exception as error:  # noqa: BLE001 - reported in the table
        failed("build", error)
        result["phase"] = "done"
        return result
    result["parameters"] = int(model.count_params())
    result["build"] = memory.as_dict()
    peaks = [memory.peak]

    result["inference"] = []
    sizes = settings["sizes"]
    for index, (height, width) in enumerate(sizes):
        result["phase"] = f"inference {height}x{width}"
        save(result)
        progress(f"{method}: inference {height}x{width}")
        try:
            count_flops = settings["flops_at"] == "all" or index == len(sizes) - 1
            row = measure_inference(
                model, spec.input_kind, height, width, settings, count_flops
            )
        except Exception as error:  # noqa: BLE001
            failed(f"inference {height}x{width}", error)
            continue
        result["inference"].append(row)
        peaks.append(row["peak_rss_mib"] * MIB)
        message = f"{method}: {row['s_per_megapixel']:.2f} s/MP"
        if "flops_per_pixel" in row:
            message += (
                f", {row['flops_per_pixel'] / 1e6:.3f} MFLOP/px, "
                f"{row['gflops_per_s']:.1f} GFLOP/s"
            )
        progress(message)

    if settings.get("served_sizes"):
        result["phase"] = "served"
        save(result)
        progress(f"{method}: served SavedModel (plain and XLA)")
        try:
            with PeakMemory() as memory:
                result["served"] = measure_served(model, spec, result, settings, save)
            result["served"]["peak_rss_mib"] = memory.as_dict()["peak_rss_mib"]
            peaks.append(memory.peak)
            auto = result["served"]["auto"]
            progress(f"{method}: auto would serve {auto['choice']} ({auto['reason']})")
        except Exception as error:  # noqa: BLE001
            failed("served", error)

    result["phase"] = "pipeline"
    save(result)
    peaks += _training_phases(spec, model, settings, result, failed, save)
    result["peak_rss_mib"] = max(peaks) / MIB
    result["phase"] = "done"
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", required=True)
    parser.add_argument("--settings", help="JSON from benchmarks.run")
    parser.add_argument("--result", help="JSON file to write")
    parser.add_argument(
        "--prepare", action="store_true", help="only write the built-in data"
    )
    args = parser.parse_args(argv)
    if args.prepare:
        import hdr_keras
        from training import data

        patterns = data.builtin_patterns(hdr_keras.get_method(args.method))
        progress(f"built-in data ready: {patterns[0]}")  # benchmarks.run reads it
        return 0
    if not args.settings or not args.result:
        parser.error("--settings and --result are required")
    settings = json.loads(args.settings)
    path = Path(args.result)

    def save(result: dict) -> None:
        partial = path.with_name(path.name + ".tmp")
        partial.write_text(json.dumps(result, indent=1))
        os.replace(partial, path)

    result = measure(args.method, settings, save)
    save(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
