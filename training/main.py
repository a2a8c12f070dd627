"""Trains, evaluates and exports one method.

    python -m training.main --method=eilertsen
    python -m training.main --method=eilertsen --data='/data/hdr/train-*.tfrecord' \
        --steps=200000 --model_dir=runs/hdrcnn

Without --data the method trains on the built-in synthetic dataset (written to the
cache on first use) with a quick schedule; with --data it uses the paper's schedule.
Outputs in --model_dir (default runs/<method>):
  logs/        TensorBoard scalars (loss, learning rate) and tonemapped previews
  previews/    PNG previews [input | prediction | reference] after each epoch
  final.keras  the trained model (keras.saving.load_model, after `import hdr_keras`)
  eval.json    PSNR-mu, PSNR-L, SSIM-mu of the model and of the baseline
  export/<v>/  SavedModel for TensorFlow Serving (signature per DESIGN.md)
  config.json  the flags and configuration of the run
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from absl import app, flags, logging

FLAGS = flags.FLAGS
flags.DEFINE_string("method", None, "Method name from the registry, e.g. eilertsen.")
flags.DEFINE_string(
    "data", None, "TFRecord glob or folder of training data (default: built-in)."
)
flags.DEFINE_string(
    "eval_data", None, "TFRecord glob of evaluation data (default: built-in)."
)
flags.DEFINE_string("model_dir", None, "Output folder (default: runs/<method>).")
flags.DEFINE_integer("steps", None, "Training steps (default: the method's schedule).")
flags.DEFINE_integer("steps_per_epoch", None, "Steps between previews and LR decay.")
flags.DEFINE_integer("batch_size", None, "Global batch size (default: the method's).")
flags.DEFINE_integer("patch_size", None, "Training patch size in pixels.")
flags.DEFINE_float(
    "learning_rate", None, "Initial learning rate (default: the paper's)."
)
flags.DEFINE_integer("seed", 0, "Random seed of weights, data order and augmentation.")
flags.DEFINE_string(
    "vgg_weights", None, "Local VGG16 weights file for VGG-based encoders."
)
flags.DEFINE_enum(
    "loss",
    None,
    ["illuminance_reflectance", "masked_log_l2"],
    "eilertsen: loss variant.",
)
flags.DEFINE_bool(
    "export", True, "Export a SavedModel to <model_dir>/export/<version>."
)
flags.DEFINE_enum(
    "strategy",
    "auto",
    ["auto", "one_device", "mirrored", "multi_worker"],
    "Distribution strategy (training/strategy.py).",
)
flags.DEFINE_integer(
    "cpu_replicas", 0, "Split the CPU into this many logical devices (mirrored)."
)
flags.DEFINE_integer(
    "checkpoint_every", None, "Steps between checkpoints (default: steps_per_epoch)."
)
flags.DEFINE_string(
    "init_from", None, "Start from this .keras file or model_dir (fine-tuning)."
)
flags.DEFINE_list("freeze", [], "Named parts to freeze, e.g. encoder,attention.")
flags.DEFINE_enum(
    "mixed_precision",
    None,
    ["mixed_float16", "mixed_bfloat16"],
    "Compute in reduced precision (variables and outputs stay float32).",
)


class UserError(Exception):
    """A problem with the flags or the data, reported without a traceback."""


def _resolve(config, using_builtin: bool):
    schedule = config.quick if using_builtin else config.paper
    steps = FLAGS.steps or schedule.steps
    return {
        "steps": steps,
        "steps_per_epoch": min(
            FLAGS.steps_per_epoch or schedule.steps_per_epoch, steps
        ),
        "batch_size": FLAGS.batch_size or schedule.batch_size,
        "patch_size": FLAGS.patch_size or schedule.patch_size,
        "learning_rate": FLAGS.learning_rate or config.learning_rate,
    }


def _model_kwargs(spec) -> dict:
    kwargs = {}
    if FLAGS.vgg_weights:
        if spec.name != "eilertsen":
            raise UserError(f"--vgg_weights does not apply to method {spec.name!r}")
        kwargs["vgg_weights"] = FLAGS.vgg_weights
    return kwargs


def _first_two(examples):
    """Model inputs, display images and references of the first two eval examples."""
    import tensorflow as tf

    chosen = examples[:2]
    first = chosen[0][0]
    if isinstance(first, dict):  # stack: show the reference (middle) frame
        inputs = {k: tf.concat([e[0][k] for e in chosen], 0) for k in first}
        display = inputs["ldr"][:, inputs["ldr"].shape[1] // 2]
    else:
        inputs = display = tf.concat([e[0] for e in chosen], 0)
    return inputs, display, tf.concat([e[1] for e in chosen], 0)


def _build(spec, hdr_keras, keras):
    """The inference model: built, or loaded with --init_from; parts frozen."""
    if FLAGS.init_from:
        try:
            model = hdr_keras.load_model(FLAGS.init_from)
        except (FileNotFoundError, ValueError) as error:
            raise UserError(f"--init_from: {error}") from None
        if model.name != spec.name:
            raise UserError(
                f"--init_from={FLAGS.init_from} holds a {model.name!r} model, not "
                f"{spec.name!r}"
            )
        print(f"initialised from {FLAGS.init_from}")
    else:
        model = hdr_keras.build_model(spec.name, **_model_kwargs(spec))
    if FLAGS.freeze:
        try:
            frozen = hdr_keras.freeze(model, FLAGS.freeze, method=spec.name)
        except ValueError as error:
            raise UserError(f"--freeze: {error}") from None
        print(f"froze {len(frozen)} layers ({', '.join(FLAGS.freeze)})")
    if keras.mixed_precision.global_policy().compute_dtype != "float32":
        # Reduced-precision compute, float32 output (and float32 losses/metrics).
        output = keras.layers.Activation("linear", dtype="float32", name="hdr_float32")(
            model.output
        )
        model = keras.Model(model.input, output, name=model.name)
    return model


def _fit_segments(step: int, total: int, per_epoch: int):
    """(first epoch, epochs, steps per epoch) fit calls from `step` to `total`.

    One call covers all whole epochs (so the data stream runs on across them); a
    run resumed mid-epoch first finishes that epoch, and a total that is not a
    multiple of `per_epoch` ends with a shorter epoch.
    """
    if step < total and step % per_epoch:
        count = min(per_epoch - step % per_epoch, total - step)
        yield step // per_epoch, 1, count
        step += count
    whole = (total - step) // per_epoch
    if whole:
        yield step // per_epoch, whole, per_epoch
        step += whole * per_epoch
    if step < total:
        yield step // per_epoch, 1, total - step


def run() -> dict:
    """Runs training, evaluation and export; returns the evaluation results."""
    # Heavy imports here so `--help` and flag errors answer at once.
    import keras
    import tensorflow as tf

    import hdr_keras
    from serving.export import export_model
    from tfrecords.shards import find_corrupt_shard, list_shards
    from training import callbacks, checkpoints, configs, data, evaluate
    from training import strategy as strategies

    try:
        spec = hdr_keras.get_method(FLAGS.method)
        config = configs.get_config(FLAGS.method)
    except ValueError as error:
        raise UserError(f"--method: {error}") from None
    if FLAGS.loss and spec.name != "eilertsen":
        raise UserError(f"--loss does not apply to method {spec.name!r}")
    try:
        strategy = strategies.make_strategy(FLAGS.strategy, FLAGS.cpu_replicas)
    except ValueError as error:
        raise UserError(str(error)) from None
    if FLAGS.mixed_precision:
        keras.mixed_precision.set_global_policy(FLAGS.mixed_precision)

    using_builtin = FLAGS.data is None
    settings = _resolve(config, using_builtin)
    keras.utils.set_random_seed(FLAGS.seed)
    try:
        method_data = data.load(
            spec,
            FLAGS.data,
            FLAGS.eval_data,
            settings["batch_size"],
            settings["patch_size"],
            FLAGS.seed,
            strategy,
        )
    except ValueError as error:
        raise UserError(str(error)) from None
    model_dir = Path(FLAGS.model_dir or Path("runs") / spec.name)
    out_dir = strategies.output_dir(model_dir, strategy)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_config = {
        "method": spec.name,
        "data": method_data.train_pattern,
        "eval_data": method_data.eval_pattern,
        "seed": FLAGS.seed,
        "loss": FLAGS.loss,
        "strategy": type(strategy).__name__,
        "replicas": strategy.num_replicas_in_sync,
        "init_from": FLAGS.init_from,
        "freeze": FLAGS.freeze,
        "mixed_precision": FLAGS.mixed_precision,
        **settings,
    }
    (out_dir / "config.json").write_text(json.dumps(run_config, indent=2) + "\n")
    logging.info("Run configuration: %s", run_config)

    with strategy.scope():
        model = _build(spec, hdr_keras, keras)
        train_model = spec.loss_model(model)
        schedule = keras.optimizers.schedules.ExponentialDecay(
            settings["learning_rate"],
            decay_steps=settings["steps_per_epoch"],
            decay_rate=config.decay_per_epoch,
            staircase=True,
        )
        loss = config.loss() if FLAGS.loss is None else type(config.loss())(FLAGS.loss)
        train_model.compile(
            optimizer=keras.optimizers.Adam(schedule, beta_1=config.beta_1), loss=loss
        )
        manager = checkpoints.manager_for(train_model, out_dir / "checkpoints")
        step = checkpoints.restore_latest(manager)

    preview_inputs, preview_display, preview_hdr = _first_two(method_data.evaluation)
    fit_callbacks = [
        checkpoints.PeriodicCheckpoint(
            manager, FLAGS.checkpoint_every or settings["steps_per_epoch"]
        ),
        callbacks.LearningRateLogger(),
        callbacks.PreviewImages(
            model,
            preview_inputs,
            preview_display,
            preview_hdr,
            out_dir / "previews",
            out_dir / "logs",
            callbacks.PREVIEW_PEAK[spec.input_kind],
        ),
        keras.callbacks.TensorBoard(str(out_dir / "logs"), update_freq="epoch"),
    ]
    logging.info(
        "Training %s for %d steps (from step %d) on %d replica(s)",
        spec.name,
        settings["steps"],
        step,
        strategy.num_replicas_in_sync,
    )
    try:
        for epoch, epochs, count in _fit_segments(
            step, settings["steps"], settings["steps_per_epoch"]
        ):
            train_model.fit(
                method_data.train(step),
                initial_epoch=epoch,
                epochs=epoch + epochs,
                steps_per_epoch=count,
                callbacks=fit_callbacks,
                verbose=1,
                shuffle=False,  # tf.data shuffles
            )
            step += epochs * count
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError):
        for problem in find_corrupt_shard(list_shards(method_data.train_pattern)):
            raise problem from None
        raise

    final_path = out_dir / "final.keras"
    model.save(final_path)
    print(f"saved {final_path}")

    predictors = {spec.name: lambda inputs: model(inputs, training=False)}
    predictors.update(evaluate.baselines(spec.input_kind))
    results = evaluate.evaluate(predictors, method_data.evaluation, spec.input_kind)
    evaluate.write_json(results, out_dir / "eval.json")
    print(
        f"evaluation on {len(method_data.evaluation)} held-out examples "
        f"({method_data.eval_pattern}):"
    )
    print(evaluate.format_table(results))

    if FLAGS.export and strategies.is_chief(strategy):
        path = export_model(model, out_dir / "export", spec.input_kind)
        print(f"exported SavedModel to {path}")
    return results


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.method:
        import hdr_keras

        raise app.UsageError(
            f"--method is required; valid methods: {', '.join(hdr_keras.list_methods())}"
        )
    from hdr_keras.io.errors import ImageIOError
    from tfrecords.errors import CorruptShardError

    try:
        run()
    except (UserError, CorruptShardError, ImageIOError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    app.run(main)
