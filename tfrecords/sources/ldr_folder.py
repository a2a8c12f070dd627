"""Source "ldr_folder": ordinary LDR photos (JPEG/PNG/TIFF) as "hdr" examples.

HDRCNN's pre-training data (Eilertsen et al. 2017; the authors' training code,
`training_code/README.md`): photos with little saturation, linearised by an
inverse camera curve (the virtual camera's `--linearize`), then fed to the same
virtual camera as real HDR images. The records are ordinary "hdr" examples, so the
single-image reader (`tfrecords.reader.single_image_training_dataset`) trains on
them unchanged.

The inverse curve is the authors' (virtualcamera.cpp, `--linearize`): the sigmoid
camera curve f(H) = (1 + a) H^n / (H^n + a) at the mean parameters of their
virtual camera, n = 0.9 and a = 0.6, inverted: H = (a z / (1 + a - z))^(1/n) for
display values z in [0, 1]. It is `hdr_keras.ops.camera.inverse_curve_sigmoid`
at those parameters, here in numpy. One difference: the authors divide an 8-bit
photo by its own maximum before linearising; here z is the file's value over its
bit depth's full scale (uint8 / 255, uint16 / 65535), so a photo whose brightest
pixel is below white is not stretched to white.

Photos are skipped, never crashing the run, and counted by reason (each file named
in the log): unreadable (not decodable, or not an image OpenCV reads), too small
(shorter side below `min_side`) or too saturated (more than `max_saturated` of the
pixels have a channel at or above `SATURATED_LEVEL`).
"""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path
from typing import Iterator

import numpy as np
from absl import logging

from hdr_keras import constants as C
from hdr_keras.io import ImageIOError
from hdr_keras.io.ldr import LDR_EXTENSIONS, read_ldr
from tfrecords.schema import encode_hdr_example
from tfrecords.sources.hdr_folder import limit_size

# The authors' --linearize curve: the virtual camera's sigmoid at its mean parameters.
LINEARIZE_N = C.HDRCNN_CURVE_N_MEAN  # 0.9
LINEARIZE_A = C.HDRCNN_CURVE_A_MEAN  # 0.6
# A pixel is saturated when any channel reaches this fraction of full scale: 250 of
# 255 on 8 bits, so JPEG ringing around clipped areas (252-255) counts as clipped.
SATURATED_LEVEL = 250.0 / 255.0
DEFAULT_MAX_SATURATED = 0.01
DEFAULT_MIN_SIDE = 224  # the pre-training crop size: smaller photos are skipped

SKIP_REASONS = ("unreadable", "too small", "too saturated")


def linearize(ldr: np.ndarray) -> np.ndarray:
    """Display values z in [0, 1] -> linear H = (a z / (1 + a - z))^(1/n), H in [0, 1].

    The inverse of the sigmoid camera curve at n = LINEARIZE_N, a = LINEARIZE_A
    (maps 0 -> 0 and 1 -> 1); z is clipped to [0, 1] first.
    """
    z = np.clip(np.asarray(ldr, dtype=np.float32), 0.0, 1.0)
    base = LINEARIZE_A * z / (1.0 + LINEARIZE_A - z)
    return np.power(base, 1.0 / LINEARIZE_N, dtype=np.float32)


def saturated_fraction(ldr: np.ndarray) -> float:
    """Fraction of pixels of `ldr` [H, W, 3] in [0, 1] with a channel >= SATURATED_LEVEL."""
    return float(np.mean(np.max(ldr, axis=-1) >= SATURATED_LEVEL))


def find_ldr_files(folder: str | Path) -> list[Path]:
    """LDR photos below `folder` (recursive), sorted; FileNotFoundError when none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"--input folder not found: {folder}")
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in LDR_EXTENSIONS
    )
    if not files:
        raise FileNotFoundError(
            f"no LDR photos ({', '.join(LDR_EXTENSIONS)}) found below {folder}"
        )
    return files


@dataclasses.dataclass
class LdrFolderStats:
    """Counts of the photos written and skipped (by reason), with the skipped names."""

    written: int = 0
    skipped: dict[str, list[str]] = dataclasses.field(
        default_factory=lambda: collections.defaultdict(list)
    )

    def skip(self, path: Path, reason: str, detail: str) -> None:
        self.skipped[reason].append(str(path))
        logging.warning("skipped %s (%s: %s)", path, reason, detail)

    def summary(self) -> str:
        counts = ", ".join(
            f"{len(self.skipped.get(reason, ()))} {reason}" for reason in SKIP_REASONS
        )
        return f"ldr_folder: {self.written} photos written; skipped: {counts}"


def ldr_folder_records(
    files: list[Path],
    stats: LdrFolderStats,
    max_saturated: float = DEFAULT_MAX_SATURATED,
    min_side: int = DEFAULT_MIN_SIDE,
    max_side: int | None = None,
) -> Iterator[bytes]:
    """Reads, checks and linearises each photo; yields "hdr" examples.

    Skipped photos are counted in `stats` by reason and named in the log.
    The saturation is measured on the photo as stored; the linear image is then
    downscaled (area filter) to `max_side` when larger.
    """
    if not 0.0 <= max_saturated <= 1.0:
        raise ValueError(f"--max_saturated must be in [0, 1], got {max_saturated}")
    for path in files:
        try:
            ldr = read_ldr(path)
        except (ImageIOError, OSError) as error:
            stats.skip(path, "unreadable", str(error))
            continue
        if min(ldr.shape[:2]) < min_side:
            stats.skip(
                path,
                "too small",
                f"{ldr.shape[1]}x{ldr.shape[0]}, shorter side below {min_side}",
            )
            continue
        fraction = saturated_fraction(ldr)
        if fraction > max_saturated:
            stats.skip(
                path,
                "too saturated",
                f"{100 * fraction:.1f} % saturated pixels > {100 * max_saturated:g} %",
            )
            continue
        stats.written += 1
        yield encode_hdr_example(limit_size(linearize(ldr), max_side), path.name)
