"""Turn LDR files into an HDR image with a trained model, a method or a server.

    python -m serving.predict --model=runs/eilertsen/export/3 --inputs photo.jpg \
        --output=photo.exr                         # writes photo.exr and photo.png
    python -m serving.predict --model=final.keras --inputs a.jpg b.jpg c.jpg \
        --exposure_times_file=times.txt --output=scene.hdr
    python -m serving.predict --server=127.0.0.1:8500 --model_name=eilertsen \
        --inputs photo.png --output=photo.exr

Model sources (exactly one): `--model` (a SavedModel version folder, a model folder
holding integer versions, whose latest is used, a `.keras` file, or a training
run's folder holding `final.keras`), `--method` (a registered training-free method:
`debevec`, `mertens`, `inverse_curve`; a method that needs weights fails with
"method X needs a trained model: pass --model"; with --model or --server it only
supplies the stride and input kind), `--server` (TF Serving or `serving.server`,
gRPC, or REST with `--rest`).

    python -m serving.predict --method=debevec --inputs a.png b.png c.png \
        --exposure_times_file=times.txt --output=scene.exr

Inputs: one LDR image for single-image models, a bracket of >= 2 for stack models;
the bracket's exposures in stops come from `--exposure_file` (stops per line),
`--exposure_times_file` (seconds per line, "1/250" allowed) or the files' EXIF
ExposureTime, all made relative to the shortest frame; the frames are sorted from
the shortest to the longest exposure (the reference is the middle one).

Large images run through overlapping tiles (`hdr_keras.inference.tiling`; `--tile`,
`--overlap`), aligned to the model's stride (from the SavedModel's metadata asset,
the registry, or `--stride`), so memory stays bounded. Methods that need the whole
image at once (registry `whole_image`: Debevec's calibration, Mertens' pyramid) run
untiled. The tonemapped PNG uses `display_tonemap` with the whole image's peak; for
a method whose output is already a display image (registry `output_kind`
"display": Mertens) the PNG is that image, and the .exr/.hdr holds the same values.

This module is the command line and the server backend; the work is done by
`hdr_keras.inference` (backends, exposures, tiling, files).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from serving.server.errors import ServingError

# Repeated from hdr_keras (registry SINGLE / STACK, inference.files.ALIGN_CHOICES)
# so that --help imports no TensorFlow; tests/serving/test_predict.py checks them.
SINGLE, STACK = "single", "stack"
ALIGN_CHOICES = ("none", "homography")

logger = logging.getLogger(__name__)


def server_backend(
    server: str, model_name: str, rest: bool = False, signature: str = "serving_default"
):
    """A model served by TF Serving (or `serving.server`) over gRPC or REST."""
    from hdr_keras.inference.backends import Backend
    from serving.client import GrpcClient, RestClient

    client = RestClient(server) if rest else GrpcClient(server)
    signatures = client.metadata(model_name)["signatures"]
    if signature not in signatures:
        raise ValueError(
            f"model {model_name} on {server} has no signature {signature!r}; it has "
            f"{sorted(signatures)}"
        )
    kind = STACK if "exposure" in signatures[signature]["inputs"] else SINGLE

    def predict(ldr, exposure):
        inputs = {"ldr": ldr} if kind == SINGLE else {"ldr": ldr, "exposure": exposure}
        if rest:
            return client.predict(model_name, inputs, signature)["hdr"]
        return client.predict(model_name, inputs, signature, output_filter=["hdr"])[
            "hdr"
        ]

    protocol = "REST" if rest else "gRPC"
    return Backend(kind, predict, f"model {model_name} at {server} ({protocol})")


def load_backend(
    model: str | None = None,
    method: str | None = None,
    server: str | None = None,
    model_name: str | None = None,
    rest: bool = False,
    authors_weights: str | None = None,
):
    """The backend for one of `model` / `server` / `method` (see module docstring).

    `--model` and `--method` go to `hdr_keras.inference.backends.load_backend`. A
    served model gets its stride from `--method`, else from its name when that is
    a registered method (the serving protocol does not carry the metadata asset).
    """
    from hdr_keras.inference import backends
    from hdr_keras.registry import get_method, list_methods

    if bool(model) + bool(server) + bool(authors_weights) > 1:
        raise ValueError("pass only one of --model, --server and --authors_weights")
    if not server:
        if not model and not method:
            raise ValueError("pass --model, --method or --server")
        return backends.load_backend(model, method, authors_weights)
    if not model_name:
        raise ValueError("--server needs --model_name")
    backend = server_backend(server, model_name, rest)
    if method:
        spec = get_method(method)
        backends.check_input_kind(backend, spec)
        return backend.use_spec(spec)
    if model_name in list_methods():
        backend.use_spec(get_method(model_name))
    return backend


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m serving.predict", description=__doc__.split("\n\n")[0]
    )
    add = parser.add_argument
    add("--inputs", nargs="+", required=True, help="one LDR image, or a bracket")
    add("--output", required=True, help="FILE.exr or FILE.hdr (FILE.png beside it)")
    add("--model", default=None, help="SavedModel folder, model folder or .keras")
    add("--method", default=None, help="registered method name")
    add(
        "--authors_weights",
        default=None,
        help="the authors' published checkpoint of --method, in their format "
        "(hdr_keras.load_authors_weights; liu also needs $HDR_KERAS_EMOR_DIR)",
    )
    add("--server", default=None, help="HOST:PORT of a model server")
    add("--model_name", default=None, help="model name on --server")
    add("--rest", action="store_true", help="talk REST to --server instead of gRPC")
    add("--exposure_file", default=None, help="exposures in stops, one per line")
    add("--exposure_times_file", default=None, help="exposure times in seconds")
    # Defaults None: hdr_keras.inference.tiling.DEFAULT_TILE / DEFAULT_OVERLAP.
    add("--tile", type=int, default=None, help="tile size in pixels")
    add("--overlap", type=int, default=None, help="tile overlap")
    add("--stride", type=int, default=0, help="tile alignment (0: from the method)")
    add(
        "--align",
        choices=ALIGN_CHOICES,
        default="none",
        help="stack methods: homography-align the background to the reference frame",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: `hdr_keras.errors` (0 done, 1 user error, 2 malformed command)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from hdr_keras.errors import run_reporting_errors

    return run_reporting_errors(run, args)


def run(args: argparse.Namespace) -> None:
    """Predicts as the parsed flags say; user errors raise `UserError`."""
    from hdr_keras.errors import UserError

    try:
        from hdr_keras.inference import tiling
        from hdr_keras.inference.files import predict_files

        backend = load_backend(
            args.model,
            args.method,
            args.server,
            args.model_name,
            args.rest,
            args.authors_weights,
        )
        output, png = predict_files(
            backend,
            args.inputs,
            args.output,
            args.exposure_file,
            args.exposure_times_file,
            tiling.DEFAULT_TILE if args.tile is None else args.tile,
            tiling.DEFAULT_OVERLAP if args.overlap is None else args.overlap,
            args.stride or None,
            args.align,
        )
    except FileNotFoundError:
        raise
    except (ValueError, OSError, ServingError) as error:
        raise UserError(str(error)) from None
    print(f"wrote {output} and {png}")


if __name__ == "__main__":
    sys.exit(main())
