"""Turn LDR files into an HDR image with a trained model, a method or a server.

    python -m serving.predict --model=runs/eilertsen/export/3 --inputs photo.jpg \
        --output=photo.exr                         # writes photo.exr and photo.png
    python -m serving.predict --model=final.keras --inputs a.jpg b.jpg c.jpg \
        --exposure_times_file=times.txt --output=scene.hdr
    python -m serving.predict --server=127.0.0.1:8500 --model_name=eilertsen \
        --inputs photo.png --output=photo.exr

Model sources (exactly one): `--model` (a SavedModel version folder, a model folder
holding integer versions, whose latest is used, or a `.keras` file), `--method`
(a registered training-free method: `debevec`, `mertens`, `inverse_curve`; a method
that needs weights fails with "method X needs a trained model: pass --model"; with
--model or --server it only supplies the stride and input kind), `--server` (TF
Serving or `serving.server`, gRPC, or REST with `--rest`).

    python -m serving.predict --method=debevec --inputs a.png b.png c.png \
        --exposure_times_file=times.txt --output=scene.exr

Inputs: one LDR image for single-image models, a bracket of >= 2 for stack models;
the bracket's exposures in stops come from `--exposure_file` (stops per line),
`--exposure_times_file` (seconds per line, "1/250" allowed) or the files' EXIF
ExposureTime, all made relative to the shortest frame; the frames are sorted from
the shortest to the longest exposure (the reference is the middle one).

Large images run through overlapping tiles (`serving.tiling`; `--tile`,
`--overlap`), aligned to the model's stride (from the registry, or `--stride`), so
memory stays bounded. Methods that need the whole image at once (registry
`whole_image`: Debevec's calibration, Mertens' pyramid) run untiled. The
tonemapped PNG uses `display_tonemap` with the whole image's peak; for a method
whose output is already a display image (registry `output_kind` "display":
Mertens) the PNG is that image, and the .exr/.hdr holds the same values.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from serving import tiling
from serving.errors import ServingError

# hdr_keras.registry.SINGLE / STACK, repeated so that --help imports no TensorFlow.
SINGLE, STACK = "single", "stack"

OUTPUT_EXTENSIONS = (".exr", ".hdr")
_TONEMAP_ROWS = 256

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Backend:
    """Something that maps one LDR tile (batch of 1) to linear HDR [1, h, w, 3]."""

    input_kind: str
    predict: Callable[[np.ndarray, np.ndarray | None], np.ndarray]
    description: str
    stride: int | None = None
    whole_image: bool = False  # never tile (global calibration or pyramid)
    output_kind: str = "linear"  # or "display": the output is an image in [0, 1]

    def use_spec(self, spec) -> "Backend":
        """Takes the stride, tiling and output kind of registry entry `spec`."""
        self.stride = spec.stride
        self.whole_image = getattr(spec, "whole_image", False)
        self.output_kind = getattr(spec, "output_kind", "linear")
        return self


ALIGN_CHOICES = ("none", "homography")


def _registry_spec(name: str):
    import hdr_keras

    return hdr_keras.get_method(name)


def keras_backend(model, input_kind: str | None = None, stride: int | None = None):
    """A Keras model run through the serving validation (float32 tiles)."""
    import tensorflow as tf

    import hdr_keras
    from serving.export import infer_input_kind
    from serving.signatures import (
        EXPOSURE_SPEC,
        SINGLE_LDR_SPEC,
        STACK_LDR_SPEC,
        validate_single,
        validate_stack,
    )

    kind = input_kind or infer_input_kind(model)
    named = model.name in hdr_keras.list_methods()
    if kind == STACK:

        @tf.function(input_signature=[STACK_LDR_SPEC, EXPOSURE_SPEC])
        def run(ldr, exposure):
            ldr, exposure = validate_stack(ldr, exposure)
            return model({"ldr": ldr, "exposure": exposure}, training=False)

        def predict(ldr, exposure):
            return run(ldr, exposure).numpy()

    else:

        @tf.function(input_signature=[SINGLE_LDR_SPEC])
        def run_single(ldr):
            return model(validate_single(ldr), training=False)

        def predict(ldr, exposure):
            return run_single(ldr).numpy()

    backend = Backend(kind, predict, f"Keras model {model.name}")
    if named:
        backend.use_spec(_registry_spec(model.name))
    if stride is not None:
        backend.stride = stride
    return backend


def saved_model_backend(path: str | Path) -> Backend:
    """A SavedModel version folder, or a model folder (its latest version)."""
    import tensorflow as tf

    from serving.export import existing_versions

    path = Path(path)
    if not (path / "saved_model.pb").is_file():
        versions = existing_versions(path)
        if not versions:
            raise ValueError(f"{path} is neither a SavedModel nor a folder of versions")
        path = versions[max(versions)]
    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    names = set(signature.structured_input_signature[1])
    kind = STACK if "exposure" in names else SINGLE

    def predict(ldr, exposure):
        inputs = {"ldr": tf.constant(ldr)}
        if kind == STACK:
            inputs["exposure"] = tf.constant(exposure)
        return signature(**inputs)["hdr"].numpy()

    predict.loaded = loaded  # keep the restored object alive with the function
    return Backend(kind, predict, f"SavedModel {path}")


def server_backend(
    server: str, model_name: str, rest: bool = False, signature: str = "serving_default"
) -> Backend:
    """A model served by TF Serving (or `serving.server`) over gRPC or REST."""
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


def method_backend(name: str) -> Backend:
    """A registered method used without trained weights (training-free methods only).

    A method is training-free when its registry entry sets `training_free=True`.
    """
    spec = _registry_spec(name)
    if not getattr(spec, "training_free", False):
        raise ValueError(f"method {name} needs a trained model: pass --model")
    import hdr_keras

    backend = keras_backend(hdr_keras.build_model(name), spec.input_kind)
    return backend.use_spec(spec)


def load_backend(
    model: str | None = None,
    method: str | None = None,
    server: str | None = None,
    model_name: str | None = None,
    rest: bool = False,
) -> Backend:
    """The backend for one of `model` / `server` / `method` (see module docstring)."""
    if bool(model) + bool(server) > 1:
        raise ValueError("pass only one of --model and --server")
    if server:
        if not model_name:
            raise ValueError("--server needs --model_name")
        backend = server_backend(server, model_name, rest)
    elif model:
        if str(model).endswith(".keras"):
            import keras

            import hdr_keras  # noqa: F401  (registers the custom layers)

            loaded = keras.saving.load_model(model, compile=False)
            kind = _registry_spec(method).input_kind if method else None
            backend = keras_backend(loaded, kind)
            return backend.use_spec(_registry_spec(method)) if method else backend
        backend = saved_model_backend(model)
    elif method:
        return method_backend(method)
    else:
        raise ValueError("pass --model, --method or --server")
    if not method:  # a model named like a registered method gets its stride
        import hdr_keras

        named = model_name if server else _model_folder_name(Path(model))
        if named in hdr_keras.list_methods():
            return backend.use_spec(_registry_spec(named))
    if method:
        spec = _registry_spec(method)
        if spec.input_kind != backend.input_kind:
            raise ValueError(
                f"method {method} takes {spec.input_kind} input but {backend.description}"
                f" takes {backend.input_kind} input"
            )
        backend.use_spec(spec)
    return backend


def _model_folder_name(path: Path) -> str:
    """ "eilertsen" for models/eilertsen or models/eilertsen/3."""
    return path.parent.name if path.name.isdigit() else path.name


def read_inputs(
    paths: Sequence[str],
    input_kind: str,
    exposure_file: str | None = None,
    exposure_times_file: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(ldr [H, W, 3] or [N, H, W, 3], exposure stops [N] or None) from files."""
    from hdr_keras.io import (
        is_hdr_path,
        read_exposure_biases,
        read_exposure_times,
        read_image,
    )
    from serving.exposures import (
        ExifError,
        exposures_from_exif,
        relative_stops,
        stops_from_times,
    )

    for path in paths:
        if is_hdr_path(path):
            raise ValueError(f"{path} is an HDR file; the inputs must be LDR images")
    if input_kind == SINGLE:
        if len(paths) != 1:
            raise ValueError(
                f"a single-image model takes exactly one input image, got {len(paths)}"
            )
        if exposure_file or exposure_times_file:
            logger.warning("single-image model: the exposure file is ignored")
        return read_image(paths[0]), None
    if len(paths) < 2:
        raise ValueError(
            f"a stack model needs a bracket of >= 2 images, got {len(paths)}"
        )
    if exposure_file and exposure_times_file:
        raise ValueError("pass only one of --exposure_file and --exposure_times_file")
    if exposure_file:
        stops = relative_stops(read_exposure_biases(exposure_file))
    elif exposure_times_file:
        stops = stops_from_times(read_exposure_times(exposure_times_file))
    else:
        try:
            stops = exposures_from_exif(paths)
        except ExifError as error:
            raise ValueError(
                f"{error}; pass --exposure_file (stops) or --exposure_times_file "
                "(seconds)"
            ) from None
    if len(stops) != len(paths):
        source = (
            f"--exposure_file={exposure_file}"
            if exposure_file
            else f"--exposure_times_file={exposure_times_file}"
            if exposure_times_file
            else "the EXIF exposure times"
        )
        raise ValueError(
            f"{len(paths)} images but {len(stops)} exposure values in {source} "
            "(one per image, in the order of --inputs)"
        )
    order = np.argsort(stops, kind="stable")  # the signatures expect short -> long
    if np.any(order != np.arange(len(order))):
        logger.info("frames sorted by exposure: %s", [paths[i] for i in order])
    paths, stops = [paths[i] for i in order], stops[order]
    frames = [read_image(path) for path in paths]
    sizes = {frame.shape for frame in frames}
    if len(sizes) != 1:
        raise ValueError(f"the bracket's images differ in size: {sorted(sizes)}")
    return np.stack(frames), stops


def tonemap_for_display(hdr: np.ndarray) -> np.ndarray:
    """`display_tonemap` of the whole image (one peak), computed in row bands."""
    from hdr_keras.ops.tonemap import display_tonemap

    peak = float(np.max(np.maximum(hdr, 0.0))) if hdr.size else 0.0
    result = np.empty(hdr.shape, np.float32)
    for row in range(0, hdr.shape[0], _TONEMAP_ROWS):
        band = hdr[row : row + _TONEMAP_ROWS]
        result[row : row + _TONEMAP_ROWS] = np.asarray(display_tonemap(band, peak=peak))
    return result


def predict_files(
    backend: Backend,
    inputs: Sequence[str],
    output: str | Path,
    exposure_file: str | None = None,
    exposure_times_file: str | None = None,
    tile: int = tiling.DEFAULT_TILE,
    overlap: int = tiling.DEFAULT_OVERLAP,
    stride: int | None = None,
    align: str = "none",
) -> tuple[Path, Path]:
    """Runs `backend` on the files; writes `output` (.exr/.hdr) and its .png.

    `align="homography"` first aligns the background of every non-reference frame
    of a bracket to the middle (reference) frame (Wu et al. 2018's preprocessing;
    `hdr_keras.ops.alignment`).
    """
    from hdr_keras.io import write_image

    output = Path(output)
    if output.suffix.lower() not in OUTPUT_EXTENSIONS:
        raise ValueError(f"--output must end in .exr or .hdr, got {output.name}")
    ldr, exposure = read_inputs(
        inputs, backend.input_kind, exposure_file, exposure_times_file
    )
    if align not in ALIGN_CHOICES:
        raise ValueError(f"--align must be one of {ALIGN_CHOICES}, got {align!r}")
    if align == "homography":
        if exposure is None:
            raise ValueError("--align=homography needs a bracket (a stack model)")
        from hdr_keras.ops.alignment import align_to_reference
        from hdr_keras.ops.stack import default_reference

        ldr = align_to_reference(ldr, exposure, default_reference(len(ldr)))[0]
    stride = stride or backend.stride or 1
    height, width = ldr.shape[-3], ldr.shape[-2]
    if backend.whole_image:  # one tile covering the image, no overlap to blend
        if max(height, width) > tile:
            logger.info("%s needs the whole image: not tiled", backend.description)
        tile, overlap = max(height, width, tile), 0
    count = tiling.tile_count(height, width, tile, overlap, stride)
    logger.info(
        "%s: %dx%d, %d tile(s) of %d px, overlap %d, stride %d",
        backend.description,
        width,
        height,
        count,
        tile,
        overlap,
        stride,
    )

    def progress(done: int, total: int) -> None:
        if total > 1 and (done == total or done % 10 == 0):
            logger.info("tile %d/%d", done, total)

    hdr = tiling.tiled_predict(
        backend.predict, ldr, exposure, tile, overlap, stride, progress=progress
    )
    del ldr
    write_image(output, hdr)
    png = output.with_suffix(".png")
    if backend.output_kind == "display":  # already an image in [0, 1] (Mertens)
        write_image(png, np.clip(hdr, 0.0, 1.0))
    else:
        write_image(png, tonemap_for_display(hdr))
    return output, png


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m serving.predict", description=__doc__.split("\n\n")[0]
    )
    add = parser.add_argument
    add("--inputs", nargs="+", required=True, help="one LDR image, or a bracket")
    add("--output", required=True, help="FILE.exr or FILE.hdr (FILE.png beside it)")
    add("--model", default=None, help="SavedModel folder, model folder or .keras")
    add("--method", default=None, help="registered method name")
    add("--server", default=None, help="HOST:PORT of a model server")
    add("--model_name", default=None, help="model name on --server")
    add("--rest", action="store_true", help="talk REST to --server instead of gRPC")
    add("--exposure_file", default=None, help="exposures in stops, one per line")
    add("--exposure_times_file", default=None, help="exposure times in seconds")
    add("--tile", type=int, default=tiling.DEFAULT_TILE, help="tile size in pixels")
    add("--overlap", type=int, default=tiling.DEFAULT_OVERLAP, help="tile overlap")
    add("--stride", type=int, default=0, help="tile alignment (0: from the method)")
    add(
        "--align",
        choices=ALIGN_CHOICES,
        default="none",
        help="stack methods: homography-align the background to the reference frame",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        backend = load_backend(
            args.model, args.method, args.server, args.model_name, args.rest
        )
        output, png = predict_files(
            backend,
            args.inputs,
            args.output,
            args.exposure_file,
            args.exposure_times_file,
            args.tile,
            args.overlap,
            args.stride or None,
            args.align,
        )
    except (ValueError, OSError, ServingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {output} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
