"""The pictures of a `--compare` report: views, thumbnails, error maps and crops.

Per example, in `<report>/images/<NNN>-<name>/`: the input (or the reference frame
of a bracket), each method's output and the ground truth, tone-mapped with the
report's `Tonemap` (radiance / the linear reference's peak, or each image's own
peak when there is no linear reference; display-referred images are shown as they
are), each as a full-size PNG and a thumbnail; per method an error map; and
one crop per picture at the place where the methods disagree most.

Error map: per pixel, the channel mean of |mu_law(prediction / peak) - mu_law(
reference / peak)| (clipped to [0, 1] first, `hdr_keras.tonemapping`'s mu-law view:
PSNR-mu's view) for linear references, or |Reinhard view - ground truth| for a
display-referred reference; coloured with viridis from 0 to ERROR_RANGE.
Crop (fixed size, the same place in every picture): the window of largest mean
spread (max - min over methods) of the error maps; with one error map, its largest
mean error; without a reference, the largest spread of the shown views.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from hdr_keras.inference.metadata import DISPLAY
from hdr_keras.io import write_image
from hdr_keras.tonemapping import MU_LAW, REINHARD, Tonemap, tonemap
from training.report_data import DISPLAY_REFERENCE, Example

ERROR_RANGE = 0.5  # mu-law (or display) difference shown as the colour bar's top
THUMB_SIZE = 256  # longest side of a thumbnail, pixels
COLORBAR = "images/colorbar.png"


@dataclasses.dataclass
class Picture:
    """One column of an example: `label`, paths relative to the report (`full`,
    `thumb`, `crop`, optional `error` and `error_thumb`) and its `scores`."""

    label: str
    full: str
    thumb: str
    crop: str
    scores: dict | None = None
    error: str | None = None
    error_thumb: str | None = None


@dataclasses.dataclass
class ExampleImages:
    """The pictures of one example and the crop box (x, y, size) in pixels."""

    name: str
    reference_kind: str | None
    pictures: list[Picture]
    crop_box: tuple[int, int, int]
    size: tuple[int, int]


def slug(text: str) -> str:
    """A file-name-safe form of `text`."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "x"


def _thumbnail(image: np.ndarray, size: int = THUMB_SIZE) -> np.ndarray:
    import cv2

    height, width = image.shape[:2]
    scale = size / max(height, width)
    if scale >= 1:
        return image
    shape = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, shape, interpolation=cv2.INTER_AREA)


def colorize(error: np.ndarray) -> np.ndarray:
    """[H, W] error in [0, ERROR_RANGE] -> viridis RGB [H, W, 3] in [0, 1]."""
    import cv2

    levels = np.round(np.clip(error / ERROR_RANGE, 0.0, 1.0) * 255).astype(np.uint8)
    bgr = cv2.applyColorMap(levels, cv2.COLORMAP_VIRIDIS)
    return bgr[..., ::-1].astype(np.float32) / 255.0


def write_colorbar(report: Path) -> str:
    """The colour bar (0 left, ERROR_RANGE right) as a PNG; its relative path."""
    ramp = np.tile(np.linspace(0.0, ERROR_RANGE, 256, dtype=np.float32), (14, 1))
    write_image(report / COLORBAR, colorize(ramp))
    return COLORBAR


def crop_box(spread: np.ndarray, size: int) -> tuple[int, int, int]:
    """(x, y, size) of the size x size window of largest mean `spread` [H, W]."""
    height, width = spread.shape
    size = max(1, min(size, height, width))
    table = np.zeros((height + 1, width + 1), np.float64)
    table[1:, 1:] = np.cumsum(np.cumsum(spread, axis=0), axis=1)
    sums = (
        table[size:, size:]
        - table[:-size, size:]
        - table[size:, :-size]
        + table[:-size, :-size]
    )
    if not np.max(sums) > np.min(sums):  # no disagreement anywhere: the centre
        return (width - size) // 2, (height - size) // 2, size
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(x), int(y), size


def _views(example, ldr, outputs, kinds, view):
    """(label -> shown image, label -> error map or None) of one example."""
    reference = None if example.reference is None else example.reference[0]
    linear_reference = reference is not None and (
        example.reference_kind != DISPLAY_REFERENCE
    )
    peak = float(np.max(reference)) if linear_reference else None
    shown = {"input": np.clip(ldr, 0.0, 1.0)}
    errors = {}
    reference_mu = tonemap(reference, MU_LAW, peak) if linear_reference else None
    for name, output in outputs.items():
        display = kinds[name] == DISPLAY
        shown[name] = np.clip(output, 0, 1) if display else tonemap(output, view, peak)
        if reference is None or (linear_reference and display):
            errors[name] = None
        elif linear_reference:
            errors[name] = np.mean(
                np.abs(tonemap(output, MU_LAW, peak) - reference_mu), axis=-1
            )
        else:
            scored = shown[name] if display else tonemap(output, Tonemap(REINHARD))
            errors[name] = np.mean(np.abs(scored - reference), axis=-1)
    if reference is not None:
        shown["reference"] = (
            tonemap(reference, view, peak) if linear_reference else reference
        )
    return shown, errors


def _spread(shown: dict, errors: dict, names) -> np.ndarray:
    maps = [error for error in errors.values() if error is not None]
    if len(maps) == 1:
        return maps[0]
    if not maps:
        maps = [np.mean(shown[name], axis=-1) for name in names]
    stacked = np.stack(maps)
    return np.max(stacked, axis=0) - np.min(stacked, axis=0)


def write_example_images(
    report: Path,
    index: int,
    example: Example,
    ldr: np.ndarray,
    outputs: dict[str, np.ndarray],
    kinds: dict[str, str],
    per_image: dict[str, dict],
    view: Tonemap,
    crop_size: int,
) -> ExampleImages:
    """Writes the pictures of one example (module docstring); describes them."""
    folder = f"images/{index:03d}-{slug(example.name)}"
    shown, errors = _views(example, ldr, outputs, kinds, view)
    x, y, size = crop_box(_spread(shown, errors, list(outputs)), crop_size)
    pictures = []
    for label, image in shown.items():
        prefix = "m-" if label in outputs else ""
        stem = f"{folder}/{prefix}{slug(label)}"
        picture = Picture(label, f"{stem}.png", f"{stem}-thumb.png", f"{stem}-crop.png")
        write_image(report / picture.full, image)
        write_image(report / picture.thumb, _thumbnail(image))
        write_image(report / picture.crop, image[y : y + size, x : x + size])
        if label in outputs:
            picture.scores = per_image[label].get(example.name, {})
            if errors.get(label) is not None:
                picture.error = f"{stem}-error.png"
                picture.error_thumb = f"{stem}-error-thumb.png"
                coloured = colorize(errors[label])
                write_image(report / picture.error, coloured)
                write_image(report / picture.error_thumb, _thumbnail(coloured))
        pictures.append(picture)
    height, width = ldr.shape[:2]
    return ExampleImages(
        example.name, example.reference_kind, pictures, (x, y, size), (height, width)
    )
