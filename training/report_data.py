"""Examples of a `--compare` report: the evaluation data plus folders of brackets.

Every example is an `Example`: the model inputs, the reference (or None), the kind of
reference and a name. Sources:
- anything `training.eval_data.load_eval_data` reads (TFRecords, Kalantari scene
  folders, LDR/HDR pairs): linear references;
- `brackets` (auto-detected for stack methods when no `HDRImg.hdr` exists below the
  folder): a folder of scene folders (or one scene folder), each holding the LDR
  frames of one bracket, their exposures in `exposure.txt` (stops per line),
  `ev.txt` (stops per line, or comma-separated lines whose last line holds the
  stops, as in Gallo et al.'s sequence) or else in the frames' EXIF, and
  optionally a ground truth: `HDRImg.hdr`/`.exr` (linear radiance) or `gt.png`
  (DISPLAY-referred: an already tone-mapped image, e.g. Kalantari's PeopleStanding,
  made with OpenCV's default Reinhard; `training.report` scores predictions on that
  view). Scenes without a ground truth are shown, not scored.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from hdr_keras.io import read_exposure_biases, read_image
from hdr_keras.ops.exposure import relative_stops
from hdr_keras.spec import STACK

LINEAR_REFERENCE, DISPLAY_REFERENCE = "linear", "display"
FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
LINEAR_GT_NAMES = ("hdrimg.hdr", "hdrimg.exr")
DISPLAY_GT_STEMS = ("gt",)


@dataclasses.dataclass
class Example:
    """One scene: inputs ([1, H, W, 3] or {"ldr": [1, N, H, W, 3], "exposure":
    [1, N]}), reference [1, H, W, 3] or None, its kind (LINEAR_REFERENCE or
    DISPLAY_REFERENCE) and a name."""

    inputs: object
    reference: np.ndarray | None
    reference_kind: str | None
    name: str


@dataclasses.dataclass
class ReportData:
    """`examples()` -> fresh iterator of Example; `count`; a `description`."""

    examples: Callable[[], Iterator[Example]]
    count: int
    description: str


def _stops_of_ev_file(path: Path, count: int) -> np.ndarray:
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if lines and "," in lines[-1]:
        values = lines[-1].split(",")
    else:
        values = lines
    try:
        stops = np.asarray([float(value) for value in values], dtype=np.float32)
    except ValueError:
        raise ValueError(f"{path}: expected numbers (stops), got {values}") from None
    if len(stops) != count:
        raise ValueError(f"{path}: {len(stops)} exposure values for {count} frames")
    return stops


def _scene_stops(folder: Path, frames: list[Path]) -> np.ndarray:
    from hdr_keras.inference.exposures import read_stops

    if (folder / "exposure.txt").is_file():
        stops = read_exposure_biases(folder / "exposure.txt")
        if len(stops) != len(frames):
            raise ValueError(
                f"{folder / 'exposure.txt'}: {len(stops)} values for "
                f"{len(frames)} frames"
            )
        return relative_stops(stops)
    if (folder / "ev.txt").is_file():
        return relative_stops(_stops_of_ev_file(folder / "ev.txt", len(frames)))
    return read_stops([str(frame) for frame in frames])


def _is_frame(path: Path) -> bool:
    return (
        path.suffix.lower() in FRAME_EXTENSIONS
        and path.stem.lower() not in DISPLAY_GT_STEMS
    )


def scene_folders(folder: str | Path) -> list[Path]:
    """The folders below `folder` (itself included) holding >= 2 frames, sorted."""
    found = []
    for root, _, files in os.walk(folder):
        if sum(_is_frame(Path(root) / name) for name in files) >= 2:
            found.append(Path(root))
    return sorted(found)


def read_scene(folder: Path) -> Example:
    """The bracket (sorted short -> long), its stops and ground truth of `folder`."""
    frames = sorted(path for path in folder.iterdir() if _is_frame(path))
    stops = _scene_stops(folder, frames)
    order = np.argsort(stops, kind="stable")
    images = [read_image(frames[index]) for index in order]
    sizes = {image.shape for image in images}
    if len(sizes) != 1:
        raise ValueError(f"{folder}: the frames differ in size: {sorted(sizes)}")
    inputs = {
        "ldr": np.stack(images)[None].astype(np.float32),
        "exposure": np.asarray(stops[order], np.float32)[None],
    }
    reference, kind = None, None
    for path in sorted(folder.iterdir()):
        if path.name.lower() in LINEAR_GT_NAMES:
            reference, kind = read_image(path), LINEAR_REFERENCE
        elif _is_display_gt(path) and reference is None:
            reference, kind = read_image(path), DISPLAY_REFERENCE
    if reference is not None:
        if reference.shape != images[0].shape:
            raise ValueError(
                f"{folder}: ground truth {reference.shape} differs from the frames' "
                f"{images[0].shape}"
            )
        reference = reference[None].astype(np.float32)
    return Example(inputs, reference, kind, folder.name)


def _is_display_gt(path: Path) -> bool:
    return (
        path.suffix.lower() in FRAME_EXTENSIONS
        and path.stem.lower() in DISPLAY_GT_STEMS
    )


def is_bracket_folder(data: str) -> bool:
    """True for a folder of brackets without linear ground truths (module docstring)."""
    path = Path(data)
    if not path.is_dir() or any(path.glob("*.tfrecord")):
        return False
    for _, _, files in os.walk(path):
        if any(name.lower() in LINEAR_GT_NAMES for name in files):
            return False
    return bool(scene_folders(path))


def load_report_data(
    data: str, input_kind: str, data_format: str = "auto", seed: int = 1234
) -> ReportData:
    """The examples of `--data` for methods of `input_kind` (module docstring)."""
    brackets = data_format == "brackets" or (
        data_format == "auto" and input_kind == STACK and is_bracket_folder(data)
    )
    if brackets:
        if input_kind != STACK:
            raise ValueError(f"--data={data}: brackets need stack methods")
        scenes = scene_folders(data)
        if not scenes:
            raise FileNotFoundError(f"--data={data}: no folder holds >= 2 frames")

        def bracket_examples():
            for scene in scenes:
                yield read_scene(scene)

        return ReportData(
            bracket_examples, len(scenes), f"{len(scenes)} brackets in {data}"
        )
    from training.eval_data import load_eval_data

    source = load_eval_data(data, input_kind, data_format, seed)

    def examples():
        for inputs, hdr, name in source.examples():
            if hasattr(name, "numpy"):
                name = name.numpy()
            name = name.decode() if isinstance(name, bytes) else str(name)
            hdr = np.asarray(hdr, np.float32)
            yield Example(inputs, hdr, LINEAR_REFERENCE, name)

    return ReportData(examples, source.count, source.description)
