"""The `training.evaluate` CLI: scores a model or a training-free method.

    python -m training.evaluate --model=runs/eilertsen/final.keras \
        --data=shared/data/marcelsan_sihdr_crops/crops --csv=scores.csv --json=scores.json
    python -m training.evaluate --model=runs/ahdrnet --data=/data/SIGGRAPH17/Test \
        --crop_border=50 --baselines
    python -m training.evaluate --method=NAME --data='/data/tfr/eval-*.tfrecord'
    python -m training.evaluate --compare=debevec,mertens,mine=runs/ahdrnet \
        --data=shared/data/dynamic_brackets --report=report --tonemap=reinhard

Scoring, metrics and baselines: `training.evaluation`; `--compare` and its HTML
report: `training.report`.
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
    add(
        "--data_format",
        default="auto",
        help="auto, tfrecord, kalantari, pairs (brackets with --compare)",
    )
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
    add(
        "--compare",
        default=None,
        help="comma-separated methods, model paths or NAME=PATH scored side by side",
    )
    add("--report", default=None, help="folder for the --compare HTML report")
    add(
        "--tonemap",
        default="mu_law",
        help="pictures' tone mapping: mu_law, exposure:STOPS[:GAMMA] or reinhard",
    )
    add("--crop_size", type=int, default=128, help="zoomed crop size in pixels")
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


def _settings(args: argparse.Namespace, input_kind: str) -> ScoreSettings:
    align = args.align_exposure
    if align == "auto":
        align = "log" if input_kind == SINGLE else "none"
    return ScoreSettings(
        metrics=tuple(m.strip() for m in args.metrics.split(",") if m.strip()),
        crop_border=args.crop_border,
        align_exposure=align,
        peak_luminance=args.peak_luminance,
        pu21_variant=args.pu21_variant,
    )


def run_compare(args: argparse.Namespace) -> dict:
    """`--compare` (`training.report`): scores side by side, writes the report."""
    from hdr_keras.tonemapping import parse_tonemap
    from training import report

    if args.model or args.method or args.baselines:
        raise UserError("--compare replaces --model, --method and --baselines")
    if args.csv:
        raise UserError("--csv is not written with --compare: use --json")
    if not args.report:
        raise UserError("--compare needs --report=DIR (the HTML report's folder)")
    if args.crop_size < 1 or args.max_images < 0:
        raise UserError("--crop_size must be >= 1 and --max_images >= 0")
    try:
        entries = report.parse_compare(args.compare)
        view = parse_tonemap(args.tonemap)
        backends = report.load_backends(entries)
        kind = next(iter(backends.values())).input_kind
        document = report.compare(
            entries,
            args.data,
            args.report,
            _settings(args, kind),
            view,
            args.data_format,
            args.max_images,
            args.crop_size,
            args.progress,
            args.seed,
            backends=backends,
        )
    except (ValueError, FileNotFoundError) as error:
        raise UserError(str(error)) from None
    print(report.text_table(document["results"]))
    print(f"wrote {Path(args.report) / 'index.html'}")
    if args.json:
        write_json(document, args.json)
    return document


def run(args: argparse.Namespace) -> dict:
    """Evaluates as the flags say; prints the table; returns the JSON document."""
    import tensorflow as tf

    if args.compare:
        return run_compare(args)
    if args.report:
        raise UserError("--report needs --compare=M1,M2,...")

    from training.eval_data import load_eval_data

    name, input_kind, predict = load_predictor(args.model, args.method)
    try:
        settings = _settings(args, input_kind)
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
