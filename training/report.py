"""`training.evaluate --compare=M1,M2,... --report=DIR`: methods side by side.

Each `M` is a registered method, a model path (`hdr_keras.inference.paths`: a
.keras file, a training model_dir, a SavedModel version or model folder) or
`NAME=PATH`/`NAME=METHOD`; all load through `hdr_keras.inference.backends` and run
on the same examples (one at a time: bounded memory) with the same settings.

Scoring (`score_example`):
- linear reference, radiance output: `training.evaluation.score` (the CLI's metrics);
- display-referred reference (an already tone-mapped ground truth such as
  Kalantari's PeopleStanding `gt.png`): the prediction is tone-mapped with OpenCV's
  default Reinhard (`hdr_keras.tonemapping`, the operator that ground truth was
  made with) and compared in display space: `psnr_display`, `ssim_display`;
  a display-referred output (Mertens) is compared as it is;
- a display-referred output against a linear reference, or a scene without
  reference: shown, not scored.
Pictures (`training.report_images`) show the outputs as scored (exposure-aligned
when `align_exposure` is on) and the page is `training.report_html`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from hdr_keras import metrics
from hdr_keras.inference.metadata import DISPLAY
from hdr_keras.registry import list_methods
from hdr_keras.spec import SINGLE, STACK
from hdr_keras.tonemapping import REINHARD, Tonemap, tonemap
from training.evaluation import ScoreSettings, crop_border, score
from training.report_data import DISPLAY_REFERENCE, Example, load_report_data
from training.report_html import write_page
from training.report_images import ExampleImages, write_example_images

DISPLAY_METRICS = ("psnr_display", "ssim_display")
RESERVED_NAMES = ("input", "reference")  # the report's other pictures


@dataclasses.dataclass(frozen=True)
class Compared:
    """One compared entry: its `name`, and a `model` path and/or a `method` name."""

    name: str
    model: str | None
    method: str | None


def parse_compare(text: str) -> list[Compared]:
    """The entries of `--compare` (module docstring); ValueError naming the entry."""
    from hdr_keras.inference.backends import model_folder_name

    methods = set(list_methods())
    entries: list[Compared] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, target = item.rpartition("=")
        if Path(target).exists():
            path = Path(target)
            default = model_folder_name(path) if path.is_dir() else path.stem
            entries.append(Compared(name or default, target, None))
        elif target in methods:
            entries.append(Compared(name or target, None, target))
        else:
            raise ValueError(
                f"--compare: {item!r} is neither an existing model path nor a "
                f"registered method ({', '.join(sorted(methods))})"
            )
    names = [entry.name for entry in entries]
    reserved = sorted(set(names) & set(RESERVED_NAMES))
    if reserved:
        raise ValueError(
            f"--compare: {', '.join(reserved)} names a picture of the report; "
            "use NAME=PATH with another name"
        )
    if not entries:
        raise ValueError("--compare: no method given")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(
            f"--compare: two entries named {', '.join(duplicates)}; use NAME=PATH"
        )
    return entries


def load_backends(entries: Sequence[Compared]) -> dict:
    """name -> `Backend`; ValueError when they take different inputs."""
    from hdr_keras.inference.backends import load_backend

    backends = {}
    for entry in entries:
        try:
            backends[entry.name] = load_backend(model=entry.model, method=entry.method)
        except (ValueError, OSError) as error:
            raise ValueError(f"--compare: {entry.name}: {error}") from None
    kinds = {name: backend.input_kind for name, backend in backends.items()}
    if len(set(kinds.values())) != 1:
        raise ValueError(
            "--compare: the methods take different inputs "
            f"({', '.join(f'{n}: {k}' for n, k in kinds.items())}); compare "
            "single-image methods and stack methods separately"
        )
    return backends


def predict_example(backend, example: Example) -> np.ndarray:
    """The backend's [H, W, 3] output for one example, tiled as `serving.predict`."""
    from hdr_keras.inference import tiling

    if backend.input_kind == SINGLE:
        ldr, exposure = np.asarray(example.inputs, np.float32)[0], None
    else:
        ldr = np.asarray(example.inputs["ldr"], np.float32)[0]
        exposure = np.asarray(example.inputs["exposure"], np.float32)[0]
    height, width = ldr.shape[-3], ldr.shape[-2]
    tile, overlap = tiling.DEFAULT_TILE, tiling.DEFAULT_OVERLAP
    if backend.whole_image:
        tile, overlap = max(height, width, tile), 0
    output = tiling.tiled_predict(
        backend.predict, ldr, exposure, tile, overlap, backend.stride or 1
    )
    if not np.all(np.isfinite(output)):
        raise ValueError(f"{backend.description}: NaN/Inf in the output")
    return output


def input_view(example: Example, input_kind: str) -> np.ndarray:
    """The input as a picture [H, W, 3]: the LDR image or the reference frame."""
    if input_kind == SINGLE:
        return np.asarray(example.inputs, np.float32)[0]
    from hdr_keras.ops.stack import default_reference

    ldr = np.asarray(example.inputs["ldr"], np.float32)[0]
    return ldr[default_reference(ldr.shape[0])]


def display_scores(reference, view, settings: ScoreSettings) -> dict[str, float]:
    """PSNR and SSIM of two display images [H, W, 3] in [0, 1] (after the crop)."""
    reference = crop_border(np.asarray(reference)[None], settings.crop_border)
    view = crop_border(np.asarray(view)[None], settings.crop_border)
    return {
        "psnr_display": float(np.mean(metrics.psnr(reference, view))),
        "ssim_display": float(np.mean(metrics.ssim(reference, view))),
    }


def score_example(
    example: Example, output, output_kind: str, input_kind: str, settings
) -> dict[str, float]:
    """Scores of one output (module docstring); {} when it cannot be scored."""
    if example.reference is None:
        return {}
    if example.reference_kind == DISPLAY_REFERENCE:
        if output_kind == DISPLAY:
            view = np.clip(output, 0.0, 1.0)
        else:
            view = tonemap(output, Tonemap(REINHARD))
        return display_scores(example.reference[0], view, settings)
    if output_kind == DISPLAY:
        return {}
    ldr = input_view(example, input_kind)[None]
    return score(
        example.reference, output[None], input_kind == SINGLE, settings, ldr=ldr
    )


def shown_output(example: Example, output, output_kind: str, settings) -> np.ndarray:
    """The output as scored: exposure-aligned to a linear reference when the
    settings align (single-image methods by default), so pictures and error maps
    show what the metrics saw."""
    if (
        settings.align_exposure == "none"
        or output_kind == DISPLAY
        or example.reference is None
        or example.reference_kind == DISPLAY_REFERENCE
    ):
        return output
    kind = STACK if isinstance(example.inputs, dict) else SINGLE
    ldr = input_view(example, kind)[None]
    aligned, _ = metrics.align_exposure(
        example.reference, output[None], ldr, settings.align_exposure
    )
    return np.asarray(aligned, np.float32)[0]


def text_table(results: dict[str, dict]) -> str:
    """Mean scores as plain text, one row per method ("-" where not scored)."""
    names = list(dict.fromkeys(m for r in results.values() for m in r["mean"]))
    header = f"{'':<28}" + "".join(f"{m:>14}" for m in names)
    rows = [
        f"{name:<28}"
        + "".join(
            f"{r['mean'][m]:>14.4f}" if m in r["mean"] else f"{'-':>14}" for m in names
        )
        for name, r in results.items()
    ]
    return "\n".join([header, *rows])


def _means(per_image: dict[str, dict[str, float]]) -> dict[str, float]:
    names = list(dict.fromkeys(m for values in per_image.values() for m in values))
    return {
        m: float(np.mean([v[m] for v in per_image.values() if m in v])) for m in names
    }


def compare(
    entries: Sequence[Compared],
    data: str,
    report: str | Path,
    settings: ScoreSettings,
    view: Tonemap = Tonemap(),
    data_format: str = "auto",
    max_images: int = 0,
    crop_size: int = 128,
    progress: bool = True,
    seed: int = 1234,
    backends: dict | None = None,
) -> dict:
    """Scores every entry on `data`, writes `report`/index.html; returns the results.

    Results: {"results": {name: {"mean": {...}, "per_image": {...}}}, ...}.
    """
    backends = backends or load_backends(entries)
    input_kind = next(iter(backends.values())).input_kind
    source = load_report_data(data, input_kind, data_format, seed)
    report = Path(report)
    report.mkdir(parents=True, exist_ok=True)
    examples = source.examples()
    total = min(source.count, max_images) if max_images else source.count
    if progress:
        from tqdm import tqdm

        examples = tqdm(examples, total=total, unit="scene", desc="comparing")
    per_image: dict[str, dict] = {name: {} for name in backends}
    pictures: list[ExampleImages] = []
    for index, example in enumerate(examples):
        if max_images and index >= max_images:
            break
        outputs, kinds = {}, {}
        for name, backend in backends.items():
            outputs[name] = predict_example(backend, example)
            kinds[name] = backend.output_kind
            try:
                scores = score_example(
                    example, outputs[name], kinds[name], input_kind, settings
                )
            except ValueError as error:
                raise ValueError(f"{example.name}: {name}: {error}") from None
            per_image[name][example.name] = scores
            outputs[name] = shown_output(example, outputs[name], kinds[name], settings)
        pictures.append(
            write_example_images(
                report,
                index,
                example,
                input_view(example, input_kind),
                outputs,
                kinds,
                per_image,
                view,
                crop_size,
            )
        )
        del outputs  # one scene at a time
    if not pictures:
        raise ValueError(f"--data={data}: no examples")
    results = {
        name: {"mean": _means(images), "per_image": images}
        for name, images in per_image.items()
    }
    document = {
        "data": data,
        "data_description": source.description,
        "input_kind": input_kind,
        "compared": [dataclasses.asdict(entry) for entry in entries],
        "output_kinds": {name: b.output_kind for name, b in backends.items()},
        "settings": dataclasses.asdict(settings),
        "tonemap": dataclasses.asdict(view) | {"description": view.describe()},
        "results": results,
    }
    (report / "results.json").write_text(json.dumps(document, indent=2) + "\n")
    write_page(report / "index.html", document, pictures)
    return document
