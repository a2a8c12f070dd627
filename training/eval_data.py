"""Evaluation data for `python -m training.evaluate --data=...`: TFRecords or folders.

Formats (`--data_format`, default `auto`):
- `tfrecord`: a TFRecord glob or a folder of `*.tfrecord` shards (`tfrecords.make`).
  "hdr" examples are read with `single_image_eval_dataset` (the LDR input is made by
  the virtual camera with a fixed seed per image, as in training's evaluation);
  "stack" examples with `stack_eval_dataset`. The model's input kind picks the reader;
  records of the other kind fail with an error naming their shard.
- `kalantari`: Kalantari's layout (scene folders with the TIFFs, `exposure.txt` and
  `HDRImg.hdr`, e.g. `Test/`), read by `tfrecords.sources.kalantari`. Stack models.
- `pairs`: a folder (searched recursively) of LDR/HDR pairs that share a name:
  `name.png|jpg|jpeg|tif|tiff` (the input) and `name.hdr|exr|pic` (the reference),
  e.g. `shared/data/marcelsan_sihdr_crops/crops`. Single-image models.
`auto` picks `tfrecord` for a glob, a file or a folder holding `*.tfrecord`,
`kalantari` for a folder with an `exposure.txt` or `HDRImg.hdr` below it, else `pairs`.

Every example is (inputs, hdr [1, H, W, 3] float32, name): inputs are the LDR image
[1, H, W, 3] in [0, 1] (single) or {"ldr": [1, N, H, W, 3], "exposure": [1, N]}
(stack), as numpy arrays.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from hdr_keras.spec import SINGLE, STACK

FORMATS = ("auto", "tfrecord", "kalantari", "pairs")
PAIR_LDR_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
PAIR_HDR_EXTENSIONS = (".hdr", ".pic", ".exr")
_KALANTARI_MARKERS = ("exposure.txt", "hdrimg.hdr")
_GLOB_CHARS = "*?["


@dataclasses.dataclass
class EvalData:
    """Examples of one `--data` source.

    Attributes:
        input_kind: SINGLE or STACK.
        examples: callable returning a fresh iterator of (inputs, hdr, name).
        count: number of examples (for the progress bar).
        description: e.g. "7 LDR/HDR pairs in crops/".
    """

    input_kind: str
    examples: Callable[[], Iterator]
    count: int
    description: str


def detect_format(data: str) -> str:
    """The format `auto` resolves to for `--data=data` (module docstring)."""
    path = Path(data)
    if any(char in data for char in _GLOB_CHARS) or path.is_file():
        return "tfrecord"
    if not path.is_dir():
        raise FileNotFoundError(f"--data: no such file or folder: {data}")
    if any(path.glob("*.tfrecord")):
        return "tfrecord"
    for _, _, files in os.walk(path):
        if any(name.lower() in _KALANTARI_MARKERS for name in files):
            return "kalantari"
    return "pairs"


def load_eval_data(
    data: str, input_kind: str, data_format: str = "auto", seed: int = 1234
) -> EvalData:
    """The examples of `data` for a model taking `input_kind` input.

    Raises:
        ValueError: unknown format, or data of the other kind than the model's
            (naming --data and both kinds).
        FileNotFoundError: missing folder, no shards or no pairs (naming them).
    """
    if data_format not in FORMATS:
        raise ValueError(f"--data_format must be one of {FORMATS}, got {data_format!r}")
    if data_format == "auto":
        data_format = detect_format(data)
    if data_format == "tfrecord":
        return _tfrecord_data(data, input_kind, seed)
    data_kind = STACK if data_format == "kalantari" else SINGLE
    if data_kind != input_kind:
        raise ValueError(
            f"--data={data} holds {data_format} data ({data_kind} input) but the model "
            f"takes {input_kind} input"
        )
    if data_format == "kalantari":
        return _kalantari_data(data)
    return _pairs_data(data)


def _tfrecord_data(pattern: str, input_kind: str, seed: int) -> EvalData:
    from tfrecords.reader import single_image_eval_dataset, stack_eval_dataset
    from tfrecords.shards import check_framing, list_shards

    try:
        shards = list_shards(pattern)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"--data: {error}") from None
    count = sum(check_framing(path) for path in shards)
    if input_kind == SINGLE:
        dataset = single_image_eval_dataset(pattern, seed=seed)
    else:
        dataset = stack_eval_dataset(pattern)

    def examples():
        for inputs, hdr, name in dataset:
            if isinstance(inputs, dict):
                inputs = {key: value.numpy() for key, value in inputs.items()}
            else:
                inputs = inputs.numpy()
            yield inputs, hdr.numpy(), name.numpy().decode()

    kind = "images (virtual camera)" if input_kind == SINGLE else "stacks"
    return EvalData(
        input_kind, examples, count, f"{count} {kind} in {len(shards)} shard(s)"
    )


def _kalantari_data(folder: str) -> EvalData:
    from tfrecords.sources.kalantari import find_kalantari_scenes, read_scene

    if not Path(folder).is_dir():
        raise FileNotFoundError(f"--data: no such folder: {folder}")
    try:
        scenes = find_kalantari_scenes(folder)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"--data: {error}") from None

    def examples():
        for scene in scenes:
            stack = read_scene(scene)
            inputs = {
                "ldr": stack["ldr"][None].astype(np.float32),
                "exposure": stack["exposure"][None].astype(np.float32),
            }
            yield inputs, stack["hdr"][None].astype(np.float32), scene.name

    return EvalData(
        STACK, examples, len(scenes), f"{len(scenes)} Kalantari scenes in {folder}"
    )


def find_pairs(folder: str | Path) -> list[tuple[Path, Path, str]]:
    """(ldr path, hdr path, name) of the pairs below `folder`, sorted by name.

    The name is the path relative to `folder` without extension. An LDR or HDR file
    without its partner, or a name with two candidates, is an error naming them.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"--data: no such folder: {folder}")
    ldr: dict[str, list[Path]] = {}
    hdr: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        extension = path.suffix.lower()
        name = path.relative_to(folder).with_suffix("").as_posix()
        if extension in PAIR_LDR_EXTENSIONS:
            ldr.setdefault(name, []).append(path)
        elif extension in PAIR_HDR_EXTENSIONS:
            hdr.setdefault(name, []).append(path)
    if not ldr and not hdr:
        raise FileNotFoundError(
            f"--data={folder}: no LDR/HDR pairs (name{'|'.join(PAIR_LDR_EXTENSIONS)} + "
            f"name{'|'.join(PAIR_HDR_EXTENSIONS)}), TFRecords or Kalantari scenes found"
        )
    for table in (ldr, hdr):
        for name, paths in table.items():
            if len(paths) > 1:
                raise ValueError(
                    f"--data={folder}: {name} is ambiguous: "
                    f"{', '.join(p.name for p in paths)}"
                )
    lonely = sorted(set(ldr) ^ set(hdr))
    if lonely:
        listed = ", ".join(
            (ldr.get(name) or hdr.get(name))[0].relative_to(folder).as_posix()
            for name in lonely[:5]
        )
        raise ValueError(
            f"--data={folder}: {len(lonely)} file(s) without their LDR/HDR partner "
            f"(same name, LDR {'/'.join(PAIR_LDR_EXTENSIONS)} and HDR "
            f"{'/'.join(PAIR_HDR_EXTENSIONS)}): {listed}"
        )
    return [(ldr[name][0], hdr[name][0], name) for name in sorted(ldr)]


def read_pair(ldr_path: Path, hdr_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(ldr [H, W, 3] in [0, 1], hdr [H, W, 3] >= 0); errors name the files."""
    from hdr_keras.io import read_image

    ldr, hdr = read_image(ldr_path), read_image(hdr_path)
    if ldr.shape != hdr.shape:
        raise ValueError(
            f"{ldr_path} ({ldr.shape[0]}x{ldr.shape[1]}) and {hdr_path} "
            f"({hdr.shape[0]}x{hdr.shape[1]}) differ in size"
        )
    bad = ~np.isfinite(hdr)
    if bad.any():
        raise ValueError(f"{hdr_path}: {int(bad.sum())} NaN/Inf values")
    if not np.max(hdr) > 0:
        raise ValueError(f"{hdr_path}: the reference is black (max {np.max(hdr)})")
    return ldr, np.maximum(hdr, 0.0)


def _pairs_data(folder: str) -> EvalData:
    pairs = find_pairs(folder)

    def examples():
        for ldr_path, hdr_path, name in pairs:
            ldr, hdr = read_pair(ldr_path, hdr_path)
            yield ldr[None], hdr[None], name

    return EvalData(
        SINGLE, examples, len(pairs), f"{len(pairs)} LDR/HDR pairs in {folder}"
    )
