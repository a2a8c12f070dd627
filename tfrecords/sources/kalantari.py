"""Source "kalantari": Kalantari & Ramamoorthi's SIGGRAPH17 dynamic-scene dataset.

Layout (METHODS.md): scene folders such as `Training/001` or `Test/PAPER/BarbequeDay`,
each holding
- N (3) LDR TIFFs (16-bit, 1500x1000) whose file names sort in exposure order,
- `exposure.txt`: one exposure bias in stops per line, in the same order,
- `HDRImg.hdr`: the ground truth, aligned to the reference (middle) frame.

`--input` may be one scene folder or any folder above scene folders (they are found
recursively: a folder is a scene when it holds a TIFF, an exposure.txt or an
HDRImg.hdr). Every scene is checked before any image is decoded, and every error
names the scene folder. Biases are shifted so the first is 0 stops (t_0 = 1), which
is the convention of the label's units (H_i = Z_i ** 2.2 / t_i).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from hdr_keras.io import SUPPORTED_EXTENSIONS, read_exposure_biases, read_image
from hdr_keras.ops.stack import default_reference
from tfrecords.schema import encode_stack_example

EXPOSURE_FILE = "exposure.txt"
HDR_FILE = "HDRImg.hdr"
TIFF_EXTENSIONS = (".tif", ".tiff")
# Mean display value a longer frame may lose against the previous one before the
# file-name order is declared inconsistent with the exposure order (motion, noise).
ORDER_TOLERANCE = 0.01

ALIGN_MODES = ("none", "homography")

# align(frames [N, H, W, 3], exposure biases [N], reference index) -> aligned frames
AlignFn = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


@dataclasses.dataclass(frozen=True)
class KalantariScene:
    """One checked scene folder (no image decoded yet)."""

    folder: Path
    name: str  # path relative to the --input folder, e.g. "Training/001"
    frames: tuple[Path, ...]  # sorted by name = by exposure
    hdr: Path
    exposure: np.ndarray  # float32 [N] biases in stops, first 0

    @property
    def reference(self) -> int:
        """Index of the reference (middle) frame."""
        return default_reference(len(self.frames))


def _is_scene_file(name: str) -> bool:
    lower = name.lower()
    return (
        lower.endswith(TIFF_EXTENSIONS)
        or lower == EXPOSURE_FILE.lower()
        or lower == HDR_FILE.lower()
    )


def _visible_files(folder: Path) -> list[str]:
    return sorted(
        entry.name
        for entry in os.scandir(folder)
        if entry.is_file() and not entry.name.startswith(".")
    )


def _scene_folders(root: Path) -> list[Path]:
    if any(_is_scene_file(name) for name in _visible_files(root)):
        return [root]
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(s for s in subfolders if not s.startswith("."))
        if any(_is_scene_file(n) for n in files if not n.startswith(".")):
            found.append(Path(folder))
    return sorted(found)


def check_scene(folder: Path, name: str, num_frames: int = 3) -> KalantariScene:
    """Checks the files of one scene folder; errors name the folder."""
    files = _visible_files(folder)
    tiffs = [f for f in files if f.lower().endswith(TIFF_EXTENSIONS)]
    by_lower = {f.lower(): f for f in files}
    if EXPOSURE_FILE.lower() not in by_lower:
        raise FileNotFoundError(
            f"Kalantari scene {folder}: no {EXPOSURE_FILE} (found: {', '.join(files)})"
        )
    if HDR_FILE.lower() not in by_lower:
        raise FileNotFoundError(
            f"Kalantari scene {folder}: no ground truth {HDR_FILE} "
            f"(found: {', '.join(files)})"
        )
    if len(tiffs) != num_frames:
        raise ValueError(
            f"Kalantari scene {folder}: expected {num_frames} TIFF frames, found "
            f"{len(tiffs)} ({', '.join(tiffs) or 'none'})"
        )
    known = set(tiffs) | {by_lower[EXPOSURE_FILE.lower()], by_lower[HDR_FILE.lower()]}
    extra = [
        f
        for f in files
        if f not in known and os.path.splitext(f)[1].lower() in SUPPORTED_EXTENSIONS
    ]
    if extra:
        raise ValueError(
            f"Kalantari scene {folder}: unexpected image files {', '.join(extra)} "
            f"(a scene holds {num_frames} TIFFs, {EXPOSURE_FILE} and {HDR_FILE})"
        )
    biases = read_exposure_biases(folder / by_lower[EXPOSURE_FILE.lower()])
    if biases.size != num_frames:
        raise ValueError(
            f"Kalantari scene {folder}: {EXPOSURE_FILE} lists {biases.size} biases "
            f"{biases.tolist()}, expected {num_frames} (one per TIFF)"
        )
    if np.any(np.diff(biases) <= 0):
        raise ValueError(
            f"Kalantari scene {folder}: {EXPOSURE_FILE} biases {biases.tolist()} are "
            "not increasing; the TIFFs, sorted by name, must go from short to long"
        )
    return KalantariScene(
        folder=folder,
        name=name,
        frames=tuple(folder / f for f in tiffs),
        hdr=folder / by_lower[HDR_FILE.lower()],
        exposure=(biases - biases[0]).astype(np.float32),
    )


def find_kalantari_scenes(
    root: str | Path, num_frames: int = 3
) -> list[KalantariScene]:
    """Scene folders at or below `root`, each checked (`check_scene`), sorted by path."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"--input folder not found: {root}")
    folders = _scene_folders(root)
    if not folders:
        raise FileNotFoundError(
            f"no Kalantari scene folders ({num_frames} TIFFs + {EXPOSURE_FILE} + "
            f"{HDR_FILE}) found at or below {root}"
        )
    scenes = []
    for folder in folders:
        name = folder.name if folder == root else folder.relative_to(root).as_posix()
        scenes.append(check_scene(folder, name, num_frames))
    return scenes


def read_scene(scene: KalantariScene) -> dict:
    """Decodes a scene -> {"ldr" [N, H, W, 3] in [0, 1], "exposure" [N], "hdr"}."""
    frames = [read_image(path) for path in scene.frames]
    hdr = read_image(scene.hdr)
    sizes = {path.name: image.shape[:2] for path, image in zip(scene.frames, frames)}
    sizes[scene.hdr.name] = hdr.shape[:2]
    if len(set(sizes.values())) != 1:
        listed = ", ".join(f"{n} {h}x{w}" for n, (h, w) in sizes.items())
        raise ValueError(
            f"Kalantari scene {scene.folder}: image sizes differ: {listed}"
        )
    if not np.all(np.isfinite(hdr)):
        raise ValueError(
            f"Kalantari scene {scene.folder}: {scene.hdr.name} has NaN/Inf"
        )
    ldr = np.stack(frames)
    means = ldr.mean(axis=(1, 2, 3))
    if np.any(np.diff(means) < -ORDER_TOLERANCE):
        raise ValueError(
            f"Kalantari scene {scene.folder}: the TIFFs sorted by name "
            f"({', '.join(p.name for p in scene.frames)}) do not get brighter "
            f"(mean values {np.round(means, 3).tolist()}) although "
            f"{EXPOSURE_FILE} lists increasing biases {scene.exposure.tolist()}"
        )
    return {"ldr": ldr, "exposure": scene.exposure, "hdr": np.maximum(hdr, 0.0)}


def make_aligner(mode: str) -> AlignFn | None:
    """The frame alignment of `--align`: None for "none"; for "homography", each
    frame's background warped onto the reference frame's by a feature-matched
    homography (Wu et al. 2018; `hdr_keras.ops.alignment`, imported only here)."""
    if mode not in ALIGN_MODES:
        raise ValueError(f"align must be one of {ALIGN_MODES}, got {mode!r}")
    if mode == "none":
        return None
    from hdr_keras.ops.alignment import align_to_reference

    def align(frames: np.ndarray, biases: np.ndarray, reference: int) -> np.ndarray:
        aligned, _, _ = align_to_reference(frames, biases, reference)
        return aligned

    return align


def kalantari_records(
    scenes: list[KalantariScene], align: AlignFn | None = None
) -> Iterator[bytes]:
    """Serialised "stack" examples, one per scene, named by the scene's path.

    `align`, when given, maps (frames, biases, reference) to frames aligned to the
    reference frame (e.g. a homography on the background) before encoding.
    """
    for scene in scenes:
        stack = read_scene(scene)
        ldr = stack["ldr"]
        if align is not None:
            ldr = np.clip(align(ldr, stack["exposure"], scene.reference), 0.0, 1.0)
        yield encode_stack_example(ldr, stack["exposure"], stack["hdr"], scene.name)
