"""`python -m serving.export`: a Keras model -> a version in a TF Serving repository.

The SavedModel itself is written by `hdr_keras.export` (signatures, metadata asset,
atomic versioned folders); this module adds the repository files
(`serving.export.repository`) and the command line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras

import hdr_keras
from hdr_keras.export.savedmodel import (  # noqa: F401  (the public export API)
    INPUT_KINDS,
    build_archive,
    export_from_keras_file,
    export_model,
    next_version,
)
from hdr_keras.export.xla import JIT_MODES
from hdr_keras.inference.backends import infer_input_kind
from hdr_keras.inference.metadata import read_metadata

logger = logging.getLogger(__name__)


def export_to_repository(
    model: keras.Model,
    base_path: str | Path,
    name: str,
    input_kind: str | None = None,
    version: int | None = None,
    served_base: str | Path | None = None,
    method: str | None = None,
    jit_compile: str = "off",
    jit_measure: dict | None = None,
) -> Path:
    """Exports `model` as `<base_path>/<name>/<version>` and refreshes the repository.

    Also (re)writes `<base_path>/models.config` (every model under `base_path`) and
    `<base_path>/batching.config`, see `serving.export.repository`. `input_kind`
    None: infer it from the model inputs (`infer_input_kind`). `served_base`: the
    repository path written into models.config (default: `base_path` made
    absolute). `method`, `jit_compile`, `jit_measure`: as in `export_model`.
    """
    from serving.export import repository

    if not name or "/" in name or name.startswith(".") or name.isdigit():
        raise ValueError(f"invalid model name {name!r}")
    input_kind = input_kind or infer_input_kind(model)
    path = export_model(
        model,
        Path(base_path) / name,
        input_kind,
        version=version,
        method=method,
        jit_compile=jit_compile,
        jit_measure=jit_measure,
    )
    repository.write_models_config(base_path, served_base)
    repository.write_batching_config(base_path)
    return path


def _kind_from_method(method: str) -> str:
    return hdr_keras.get_method(method).input_kind


def main(argv: list[str] | None = None) -> Path:
    """CLI: `python -m serving.export --model=X.keras --base_path=DIR --name=NAME`."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m serving.export",
        description="Export a .keras model into a TF Serving model repository: "
        "DIR/NAME/<next version>/, DIR/models.config and DIR/batching.config.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="path of a .keras model file")
    source.add_argument(
        "--authors_weights",
        help="the authors' published checkpoint of --method in their own format "
        "(hdr_keras.load_authors_weights; liu also needs $HDR_KERAS_EMOR_DIR)",
    )
    parser.add_argument("--base_path", required=True, help="model repository folder")
    parser.add_argument("--name", required=True, help="model name in the repository")
    parser.add_argument(
        "--method",
        default=None,
        help="registered method name (gives the input kind, and the stride and "
        "output kind written into the export's metadata); default: inferred from "
        "the model inputs and name",
    )
    parser.add_argument(
        "--version", type=int, default=None, help="version (default: next free one)"
    )
    parser.add_argument(
        "--config_base_path",
        default=None,
        help="the repository folder as the server sees it, written into "
        "models.config as given (e.g. /models in a container); default: the "
        "absolute --base_path",
    )
    parser.add_argument(
        "--jit_compile",
        choices=JIT_MODES,
        default="auto",
        help="serve the model through XLA: auto (default) times the plain and the "
        "XLA serving function on this machine at 256x384 and 1000x1500 and keeps "
        "the faster when their outputs agree within 1e-5 (takes minutes for large "
        "models); on; off. An XLA export needs tensorflow_model_server "
        "--xla_cpu_compilation_enabled=true (docs/serving.md)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.authors_weights:
        if not args.method:
            parser.error("--authors_weights needs --method")
        from hdr_keras.authors import load_authors_weights

        model = load_authors_weights(args.method, args.authors_weights)
    else:
        model = keras.saving.load_model(args.model, compile=False)
    kind = infer_input_kind(model) if args.method is None else None
    if args.method is not None:
        kind = _kind_from_method(args.method)
    path = export_to_repository(
        model,
        args.base_path,
        args.name,
        input_kind=kind,
        version=args.version,
        served_base=args.config_base_path,
        method=args.method,
        jit_compile=args.jit_compile,
    )
    print(f"exported {kind} model {args.name!r} to {path}")
    decision = read_metadata(path).jit_compile
    if decision["compiled"]:
        print(
            f"served through XLA ({decision['reason']}): start tensorflow_model_server "
            "with --xla_cpu_compilation_enabled=true, without it every request fails"
        )
    elif decision.get("xla_in_graph"):
        print(
            f"served without XLA around the model ({decision['reason']}), but layers "
            "of it run XLA programs of their own (e.g. the optical flow): start "
            "tensorflow_model_server with --xla_cpu_compilation_enabled=true, or "
            "export with --jit_compile=off for a graph without XLA (slower)"
        )
    else:
        print(f"served without XLA ({decision['reason']})")
    print(f"model config: {Path(args.base_path) / 'models.config'}")
    return path
