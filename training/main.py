"""Trains, evaluates and exports one method.

    python -m training.main --method=eilertsen
    python -m training.main --method=eilertsen --data='/data/hdr/train-*.tfrecord' \
        --steps=200000 --model_dir=runs/hdrcnn

    python -m training.main --method=eilertsen --pretrain_data=PHOTO_RECORDS --data=HDR
Without --data the method trains on the built-in synthetic dataset (written to the
cache on first use) with a quick schedule; with --data it uses the paper's schedule.
Staged methods run every stage, or --stage=NAME alone (HDRCNN: pretrain, on records
of LDR photos, then finetune; see docs/training.md).
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

from absl import app, flags

from training.run_config import (
    HELP,
    JIT_COMPILE,
    LOSS_VARIANTS,
    MIXED_PRECISION,
    OPTIMIZERS,
    STRATEGIES,
    RunConfig,
)

FLAGS = flags.FLAGS
flags.DEFINE_string("method", None, "Method name from the registry, e.g. eilertsen.")
flags.DEFINE_string(
    "data", None, "Training TFRecord glob or folder (default: built-in)."
)
flags.DEFINE_string("pretrain_data", None, HELP["pretrain_data"])
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
flags.DEFINE_enum("loss", None, list(LOSS_VARIANTS), "eilertsen: loss variant.")
flags.DEFINE_bool(
    "export", True, "Export a SavedModel to <model_dir>/export/<version>."
)
flags.DEFINE_enum("strategy", "auto", list(STRATEGIES), "training/strategy.py.")
flags.DEFINE_integer(
    "cpu_replicas", 0, "Split the CPU into this many logical devices (mirrored)."
)
flags.DEFINE_integer(
    "checkpoint_every", None, "Steps between checkpoints (default: steps_per_epoch)."
)
flags.DEFINE_string(
    "init_from",
    None,
    "Start from a .keras file, a model_dir or the authors' checkpoint (fine-tuning).",
)
flags.DEFINE_list("freeze", [], "Named parts to freeze, e.g. encoder,attention.")
flags.DEFINE_string("real_pairs", None, HELP["real_pairs"])
flags.DEFINE_string("real_pairs_eilertsen", None, HELP["real_pairs_eilertsen"])
flags.DEFINE_string("stage", None, HELP["stage"])
flags.DEFINE_enum("optimizer", "adam", list(OPTIMIZERS), HELP["optimizer"])
flags.DEFINE_enum(
    "mixed_precision", None, list(MIXED_PRECISION), HELP["mixed_precision"]
)
flags.DEFINE_enum(
    "export_jit_compile", "off", list(JIT_COMPILE), HELP["export_jit_compile"]
)


def __getattr__(name: str):
    """`training.main.UserError` without importing TensorFlow for --help."""
    if name == "UserError":
        from hdr_keras.errors import UserError

        return UserError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def config_from_flags() -> RunConfig:
    """The run configuration from the parsed flags: the only place that reads FLAGS."""
    return RunConfig(**{name: FLAGS[name].value for name in RunConfig.field_names()})


def run() -> dict:
    """Trains as the parsed flags say (programmatic entry; tests set FLAGS first)."""
    from training import trainer

    return trainer.run(config_from_flags())


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.method:
        import hdr_keras

        raise app.UsageError(
            f"--method is required; valid methods: {', '.join(hdr_keras.list_methods())}"
        )
    from hdr_keras.errors import run_reporting_errors
    from training import trainer

    return run_reporting_errors(trainer.run, config_from_flags())


if __name__ == "__main__":
    app.run(main)
