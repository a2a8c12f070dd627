"""Source "hdr_folder": every .hdr / .exr image below a folder, as "hdr" examples."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from hdr_keras.io import read_image
from tfrecords.schema import encode_hdr_example

HDR_EXTENSIONS = (".hdr", ".pic", ".exr")


def find_hdr_files(folder: str | Path) -> list[Path]:
    """HDR images below `folder` (recursive), sorted; FileNotFoundError when none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"--input folder not found: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in HDR_EXTENSIONS)
    if not files:
        raise FileNotFoundError(
            f"no HDR images ({', '.join(HDR_EXTENSIONS)}) found below {folder}"
        )
    return files


def limit_size(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """Downscales (area filter) so that the longer side is at most `max_side`."""
    if not max_side or max(image.shape[:2]) <= max_side:
        return image
    scale = max_side / max(image.shape[:2])
    size = (
        max(1, round(image.shape[1] * scale)),
        max(1, round(image.shape[0] * scale)),
    )
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def hdr_folder_records(
    files: list[Path], max_side: int | None = None
) -> Iterator[bytes]:
    """Reads each file (errors name it), clamps negatives to 0, yields examples."""
    for path in files:
        image = read_image(path)
        bad = ~np.isfinite(image)
        if bad.any():
            raise ValueError(
                f"{path}: {int(bad.sum())} NaN/Inf values; clean or remove the file"
            )
        yield encode_hdr_example(limit_size(image, max_side), path.name)
