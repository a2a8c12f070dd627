"""The `training.evaluate` CLI: scores a model or a training-free method.

    python -m training.evaluate --model=runs/eilertsen/final.keras \
        --data=shared/data/marcelsan_sihdr_crops/crops --csv=scores.csv --json=scores.json
    python -m training.evaluate --model=runs/ahdrnet --data=/data/SIGGRAPH17/Test \
        --crop_border=50 --baselines
    python -m training.evaluate --method=NAME --data='/data/tfr/eval-*.tfrecord'

Scoring, metrics and baselines: `training.evaluation`.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import re
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from hdr_keras.errors import UserError, run_reporting_errors
from training.evaluation import (  # noqa: F401  (the CLI's scoring API)
    ALL_METRICS,
    PSNR_CAP_DB,
    PU21_DEFAULT_VARIANT,
    PU21_PEAK_LUMINANCE,
    PU21_VARIANTS,
    SINGLE,
    ScoreSettings,
    baselines,
    evaluate,
    format_table,
    write_csv,
    write_json,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training.evaluate",
        description="Scores an HDR model or a training-free method on TFRecords, "
        "Kalantari scene folders or LDR/HDR pair folders.",
    )
    add = parser.add_argument
    add("--model", default=None, help=".keras file, training model_dir, SavedModel")
    add(
        "--method",
        default=None,
        help="registered method (training-free without --model)",
    )
    add("--data", required=True, help="TFRecord glob/folder, Kalantari or pairs folder")
    add("--data_format", default="auto", help="auto, tfrecord, kalantari or pairs")
    add("--metrics", default=",".join(ALL_METRICS), help="comma-separated metrics")
    add(
        "--crop_border",
        type=int,
        default=0,
        help="pixels cropped per side (Kalantari: 50)",
    )
    add(
        "--align_exposure",
        default="auto",
        help="log, linear or none; auto: log for single-image models, none for stacks",
    )
    add(
        "--peak_luminance",
        type=float,
        default=PU21_PEAK_LUMINANCE,
        help="cd/m^2 of the reference's maximum for PU21",
    )
    add("--pu21_variant", default=PU21_DEFAULT_VARIANT, help=", ".join(PU21_VARIANTS))
    add(
        "--baselines",
        action="store_true",
        help="also score the training-free baselines",
    )
    add("--csv", default=None, help="per-image scores as CSV")
    add("--json", default=None, help="settings, per-image and mean scores as JSON")
    add("--max_images", type=int, default=0, help="score only the first N (0: all)")
    add(
        "--seed",
        type=int,
        default=1234,
        help="virtual camera seed (single-image TFRecords)",
    )
    add("--progress", action=argparse.BooleanOptionalAction, default=True)
    return parser


def _model_name(path: Path) -> str:
    """ "ahdrnet" for runs/ahdrnet, models/ahdrnet/3 or ahdrnet.keras."""
    if path.is_dir():
        return path.parent.name if path.name.isdigit() else path.name
    return path.stem


def load_predictor(model: str | None, method: str | None):
    """(name, input kind, predict(inputs) -> hdr) of --model / --method.

    `--model` is anything `hdr_keras.inference.paths.resolve_model_path` accepts
    (a .keras file, a training model_dir with final.keras, a SavedModel version or
    model folder).
    """
    from hdr_keras.inference.backends import load_backend

    if not model and not method:
        raise UserError("pass --model=PATH (a trained model) or --method=NAME")
    name = method or (_model_name(Path(model)) if model else "")
    try:
        backend = load_backend(model=model, method=method)
    except (ValueError, OSError) as error:
        raise UserError(f"{'--model' if model else '--method'}: {error}") from None

    def predict(inputs):
        if backend.input_kind == SINGLE:
            return backend.predict(np.asarray(inputs, dtype=np.float32), None)
        return backend.predict(
            np.asarray(inputs["ldr"], dtype=np.float32),
            np.asarray(inputs["exposure"], dtype=np.float32),
        )

    return name, backend.input_kind, predict


def _op_error_text(error) -> str:
    """The readable part of a TF error, e.g. a failed tf.debugging.Assert's message."""
    text = error.message
    if "assertion failed:" in text:
        text = text.split("assertion failed:", 1)[1].split("\n")[0]
        text = " ".join(re.findall(r"\[([^\[\]]*)\]", text)).replace('\\"', '"')
    return text


def run(args: argparse.Namespace) -> dict:
    """Evaluates as the flags say; prints the table; returns the JSON document."""
    import tensorflow as tf

    from training.eval_data import load_eval_data

    name, input_kind, predict = load_predictor(args.model, args.method)
    align = args.align_exposure
    if align == "auto":
        align = "log" if input_kind == SINGLE else "none"
    try:
        settings = ScoreSettings(
            metrics=tuple(m.strip() for m in args.metrics.split(",") if m.strip()),
            crop_border=args.crop_border,
            align_exposure=align,
            peak_luminance=args.peak_luminance,
            pu21_variant=args.pu21_variant,
        )
        data = load_eval_data(args.data, input_kind, args.data_format, args.seed)
    except (ValueError, FileNotFoundError) as error:
        raise UserError(str(error)) from None
    if args.max_images < 0:
        raise UserError(f"--max_images must be >= 0, got {args.max_images}")
    predictors = {name: predict}
    if args.baselines:
        predictors.update(baselines(input_kind))
    examples = data.examples()
    total = data.count
    if args.max_images:
        examples = itertools.islice(examples, args.max_images)
        total = min(total, args.max_images)
    print(f"evaluating {name} ({input_kind}) on {data.description}", flush=True)
    try:
        results = evaluate(
            predictors, examples, input_kind, settings, args.progress, total
        )
    except tf.errors.OpError as error:
        if isinstance(error, tf.errors.DataLossError):
            from tfrecords.shards import find_corrupt_shard, list_shards

            for problem in find_corrupt_shard(list_shards(args.data)):
                raise problem from None
        raise UserError(f"--data={args.data}: {_op_error_text(error)}") from None
    except ValueError as error:
        raise UserError(str(error)) from None
    document = {
        "model": args.model,
        "method": args.method,
        "data": args.data,
        "data_description": data.description,
        "input_kind": input_kind,
        "settings": dataclasses.asdict(settings),
        "psnr_cap_db": PSNR_CAP_DB,
        "results": results,
    }
    print(format_table(results))
    if args.csv:
        write_csv(results, args.csv)
        print(f"wrote {args.csv}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        write_json(document, args.json)
        print(f"wrote {args.json}")
    return document


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: `hdr_keras.errors` (0 done, 1 user error, 2 malformed command)."""
    return run_reporting_errors(run, build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
