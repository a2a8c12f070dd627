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


def run() -> dict:
    """Runs training, evaluation and export; returns the evaluation results."""
    # Heavy imports here so `--help` and flag errors answer at once.
    import keras
    import tensorflow as tf

    import hdr_keras
    from serving.export import export_model
    from tfrecords.shards import find_corrupt_shard, list_shards
    from training import callbacks, configs, data, evaluate

    try:
        spec = hdr_keras.get_method(FLAGS.method)
        config = configs.get_config(FLAGS.method)
    except ValueError as error:
        raise UserError(f"--method: {error}") from None
    if FLAGS.loss and spec.name != "eilertsen":
        raise UserError(f"--loss does not apply to method {spec.name!r}")

    using_builtin = FLAGS.data is None
    settings = _resolve(config, using_builtin)
    keras.utils.set_random_seed(FLAGS.seed)
    method_data = data.load(
        spec,
        FLAGS.data,
        FLAGS.eval_data,
        settings["batch_size"],
        settings["patch_size"],
        FLAGS.seed,
    )
    model_dir = Path(FLAGS.model_dir or Path("runs") / spec.name)
    model_dir.mkdir(parents=True, exist_ok=True)
    run_config = {
        "method": spec.name,
        "data": method_data.train_pattern,
        "eval_data": method_data.eval_pattern,
        "seed": FLAGS.seed,
        "loss": FLAGS.loss,
        **settings,
    }
    (model_dir / "config.json").write_text(json.dumps(run_config, indent=2) + "\n")
    logging.info("Run configuration: %s", run_config)

    model = hdr_keras.build_model(spec.name, **_model_kwargs(spec))
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

    preview_inputs, preview_display, preview_hdr = _first_two(method_data.evaluation)
    epochs = math.ceil(settings["steps"] / settings["steps_per_epoch"])
    logging.info(
        "Training %s for %d steps (%d epochs)", spec.name, settings["steps"], epochs
    )
    try:
        train_model.fit(
            method_data.train,
            epochs=epochs,
            steps_per_epoch=settings["steps_per_epoch"],
            callbacks=[
                callbacks.LearningRateLogger(),
                callbacks.PreviewImages(
                    model,
                    preview_inputs,
                    preview_display,
                    preview_hdr,
                    model_dir / "previews",
                    model_dir / "logs",
                    callbacks.PREVIEW_PEAK[spec.input_kind],
                ),
                keras.callbacks.TensorBoard(
                    str(model_dir / "logs"), update_freq="epoch"
                ),
            ],
            verbose=1,
            shuffle=False,  # tf.data shuffles
        )
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError):
        for problem in find_corrupt_shard(list_shards(method_data.train_pattern)):
            raise problem from None
        raise

    final_path = model_dir / "final.keras"
    model.save(final_path)
    print(f"saved {final_path}")

    predictors = {spec.name: lambda inputs: model(inputs, training=False)}
    predictors.update(evaluate.baselines(spec.input_kind))
    results = evaluate.evaluate(predictors, method_data.evaluation, spec.input_kind)
    evaluate.write_json(results, model_dir / "eval.json")
    print(
        f"evaluation on {len(method_data.evaluation)} held-out examples "
        f"({method_data.eval_pattern}):"
    )
    print(evaluate.format_table(results))

    if FLAGS.export:
        path = export_model(model, model_dir / "export", spec.input_kind)
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
