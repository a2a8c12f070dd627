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
  history.json mean training loss of each epoch (per stage for staged methods)
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
flags.DEFINE_string(
    "real_pairs",
    None,
    "Folder of real LDR/HDR pairs scored after training (single-image methods; "
    "liu finds the shared data's marcelsan_sihdr_crops by itself).",
)
flags.DEFINE_string(
    "real_pairs_eilertsen",
    None,
    "A trained eilertsen .keras file or model_dir scored beside the model on the "
    "real pairs.",
)
flags.DEFINE_string(
    "stage",
    None,
    "Multi-stage methods: run only this stage (default: all stages in order).",
)
flags.DEFINE_enum(
    "optimizer",
    "adam",
    ["adam", "sgd"],
    "adam: the method's Adam (default). sgd: plain gradient descent at the same "
    "learning rate and schedule; its update is linear in the gradient, so runs on "
    "different numbers of replicas can be compared weight by weight.",
)
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
        if spec.name not in ("eilertsen", "liu"):
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


def _stages(config, only: str | None, steps: int, using_builtin: bool):
    """[(stage, steps)] to run: [(None, steps)] for single-stage methods."""
    if not config.stages:
        if only:
            raise UserError(f"--stage: method {FLAGS.method!r} has a single stage")
        return [(None, steps)]
    names = [stage.name for stage in config.stages]
    if only is None:
        shares = config.stage_steps(steps)
        return [(stage, shares[stage.name]) for stage in config.stages]
    if only not in names:
        raise UserError(
            f"--stage={only}: method {FLAGS.method!r} has stages {', '.join(names)}"
        )
    stage = config.stages[names.index(only)]
    if FLAGS.steps is None:
        schedule = config.quick if using_builtin else config.paper
        steps = config.stage_steps(schedule.steps)[only]
    return [(stage, steps)]


def _set_stage_parts(spec, model, parts: tuple[str, ...]) -> None:
    """Makes only `parts` trainable (all when empty), then applies --freeze.

    The model is recompiled by each stage, so the finetune module's "compiled
    model" warning does not apply here.
    """
    import warnings

    import hdr_keras

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*call model.compile.. again")
        hdr_keras.unfreeze(model, method=spec.name)
        if parts:
            model.trainable = False
            hdr_keras.unfreeze(model, parts, method=spec.name)
        if FLAGS.freeze:
            hdr_keras.freeze(model, FLAGS.freeze, method=spec.name)


def _append_history(out_dir: Path, stage, first_epoch: int, losses) -> None:
    """Adds the epochs' mean training losses to <model_dir>/history.json."""
    path = out_dir / "history.json"
    entries = json.loads(path.read_text()) if path.is_file() else []
    for offset, loss in enumerate(losses):
        entries.append(
            {
                "stage": None if stage is None else stage.name,
                "epoch": first_epoch + offset,
                "loss": float(loss),
            }
        )
    path.write_text(json.dumps(entries, indent=1) + "\n")


STAGE_WEIGHTS = "stages/{}.weights.h5"  # inference weights after each stage


def _save_stage_weights(stage, model, out_dir: Path) -> None:
    """Writes the weights a finished stage leaves (atomically) for later stages."""
    import os

    path = out_dir / STAGE_WEIGHTS.format(stage.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".partial-{path.name}")
    model.save_weights(partial)
    os.replace(partial, path)


def _restore_earlier_stage(config, stage, model, out_dir: Path) -> None:
    """Starts `stage` from the weights of the newest finished stage before it."""
    names = [s.name for s in config.stages]
    for earlier in reversed(names[: names.index(stage.name)]):
        path = out_dir / STAGE_WEIGHTS.format(earlier)
        if path.is_file():
            model.load_weights(path)
            print(f"stage {stage.name!r} starts from stage {earlier!r} ({path})")
            return


def _train_stage(
    spec,
    config,
    stage,
    steps: int,
    model,
    method_data,
    strategy,
    settings: dict,
    out_dir: Path,
    previews,
) -> None:
    """Compiles the loss view of one stage, restores its checkpoint and fits."""
    import keras
    import tensorflow as tf

    from tfrecords.shards import find_corrupt_shard, list_shards
    from training import callbacks, checkpoints, loop

    suffix = () if stage is None else (stage.name,)
    checkpoint_dir = out_dir.joinpath("checkpoints", *suffix)
    learning_rate = settings["learning_rate"]
    if stage is not None and stage.learning_rate and FLAGS.learning_rate is None:
        learning_rate = stage.learning_rate
    with strategy.scope():
        if stage is not None:
            # Train only this stage's parts (plus --freeze on top).
            _set_stage_parts(spec, model, stage.train)
        loss_model = (
            stage.loss_model
            if stage is not None and stage.loss_model
            else spec.loss_model
        )
        train_model = loss_model(model)
        schedule = keras.optimizers.schedules.ExponentialDecay(
            learning_rate,
            decay_steps=settings["steps_per_epoch"],
            decay_rate=config.decay_per_epoch,
            staircase=True,
        )
        if stage is not None:
            loss = stage.loss()
        else:
            loss = (
                config.loss() if FLAGS.loss is None else type(config.loss())(FLAGS.loss)
            )
        if FLAGS.optimizer == "sgd":
            optimizer = keras.optimizers.SGD(schedule)
        else:
            optimizer = keras.optimizers.Adam(schedule, beta_1=config.beta_1)
        train_model.compile(optimizer=optimizer, loss=loss)
        manager = checkpoints.manager_for(train_model, checkpoint_dir, full=model)
        if stage is not None and manager.latest_checkpoint is None:
            _restore_earlier_stage(config, stage, model, out_dir)
        step = checkpoints.restore_latest(manager)

    fit_callbacks = [
        checkpoints.PeriodicCheckpoint(
            manager, FLAGS.checkpoint_every or settings["steps_per_epoch"]
        ),
        callbacks.LearningRateLogger(),
        callbacks.PreviewImages(
            model,
            *previews,
            out_dir.joinpath("previews", *suffix),
            out_dir.joinpath("logs", *suffix),
            callbacks.PREVIEW_PEAK[spec.input_kind],
        ),
        keras.callbacks.TensorBoard(
            str(out_dir.joinpath("logs", *suffix)), update_freq="epoch"
        ),
    ]
    logging.info(
        "Training %s%s for %d steps (from step %d) on %d replica(s)",
        spec.name,
        "" if stage is None else f" stage {stage.name}",
        steps,
        step,
        strategy.num_replicas_in_sync,
    )
    targets = None if stage is None else stage.targets
    per_epoch = min(settings["steps_per_epoch"], steps)
    try:
        for epoch, epochs, count in _fit_segments(step, steps, per_epoch):
            if loop.needs_replicated_loop(strategy):
                history = loop.fit_replicated(
                    train_model,
                    method_data.train(step, targets),
                    strategy,
                    initial_epoch=epoch,
                    epochs=epoch + epochs,
                    steps_per_epoch=count,
                    callbacks=fit_callbacks,
                )
            else:
                history = train_model.fit(
                    method_data.train(step, targets),
                    initial_epoch=epoch,
                    epochs=epoch + epochs,
                    steps_per_epoch=count,
                    callbacks=fit_callbacks,
                    verbose=1,
                    shuffle=False,  # tf.data shuffles
                ).history
            _append_history(out_dir, stage, epoch, history["loss"])
            step += epochs * count
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError):
        for problem in find_corrupt_shard(list_shards(method_data.train_pattern)):
            raise problem from None
        raise
    if stage is not None:
        _save_stage_weights(stage, model, out_dir)
        _set_stage_parts(spec, model, ())


def run() -> dict:
    """Runs training, evaluation and export; returns the evaluation results."""
    # Heavy imports here so `--help` and flag errors answer at once.
    import keras

    import hdr_keras
    from hdr_keras.inference.paths import final_model_path
    from serving.export import export_model
    from training import configs, data, evaluate, real_pairs
    from training import strategy as strategies

    try:
        spec = hdr_keras.get_method(FLAGS.method)
        if spec.training_free:
            raise UserError(
                f"--method={spec.name} is training-free: it has no weights, so there "
                "is nothing to train; run it with `python -m serving.predict "
                f"--method={spec.name} --inputs ...` (or training.evaluate --method)"
            )
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
    stages = _stages(config, FLAGS.stage, settings["steps"], using_builtin)
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
        "optimizer": FLAGS.optimizer,
        "stages": {stage.name: steps for stage, steps in stages if stage is not None},
        **settings,
    }
    (out_dir / "config.json").write_text(json.dumps(run_config, indent=2) + "\n")
    logging.info("Run configuration: %s", run_config)

    try:
        pairs_dir, pairs_eilertsen = real_pairs.plan(
            spec.name, spec.input_kind, FLAGS.real_pairs, FLAGS.real_pairs_eilertsen
        )
    except ValueError as error:
        raise UserError(str(error)) from None
    with strategy.scope():
        model = _build(spec, hdr_keras, keras)
    preview_inputs, preview_display, preview_hdr = _first_two(method_data.evaluation)
    for stage, stage_steps in stages:
        if stage is not None:
            print(f"stage {stage.name!r}: {stage_steps} steps")
        _train_stage(
            spec,
            config,
            stage,
            stage_steps,
            model,
            method_data,
            strategy,
            settings,
            out_dir,
            (preview_inputs, preview_display, preview_hdr),
        )

    final_path = final_model_path(out_dir)
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
    if pairs_dir is not None:
        real_pairs.run(spec.name, model, pairs_dir, out_dir, pairs_eilertsen)

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
