"""hdr_keras.io.exif: EXIF ExposureTime of JPEG and TIFF files."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from hdr_keras.inference import exposures
from hdr_keras.io import write_image


def random_ldr(*shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, shape).astype(np.float32)


def test_exif_exposure_time_of_real_jpegs(shared_data):
    folder = shared_data / "colour_hdri_tests" / "frobisher_001"
    paths = sorted(folder.glob("IMG_26*.jpg"))
    assert [exposures.exif_exposure_time(p) for p in paths] == [0.125, 1.0, 8.0]
    np.testing.assert_allclose(exposures.exposures_from_exif(paths), [0, 3, 6])


def tiff_with_exposure(order: str, numerator: int, denominator: int) -> bytes:
    """A minimal TIFF/EXIF block: IFD0 -> Exif IFD -> ExposureTime (RATIONAL)."""
    mark = b"II" if order == "<" else b"MM"
    header = mark + struct.pack(order + "HI", 42, 8)
    ifd0 = struct.pack(order + "H", 1) + struct.pack(order + "HHII", 0x8769, 4, 1, 26)
    ifd0 += struct.pack(order + "I", 0)
    exif = struct.pack(order + "H", 1) + struct.pack(order + "HHII", 0x829A, 5, 1, 44)
    exif += struct.pack(order + "I", 0)
    return header + ifd0 + exif + struct.pack(order + "II", numerator, denominator)


@pytest.mark.parametrize("order", ["<", ">"])
def test_exif_parser_on_built_jpeg(tmp_path, order):
    block = b"Exif\0\0" + tiff_with_exposure(order, 1, 250)
    jpeg = b"\xff\xd8" + b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block
    jpeg += b"\xff\xda\x00\x02" + b"\x00" * 16 + b"\xff\xd9"
    path = tmp_path / "frame.jpg"
    path.write_bytes(jpeg)
    assert exposures.exif_exposure_time(path) == pytest.approx(1 / 250)


def test_exif_missing_is_a_clear_error(tmp_path):
    path = tmp_path / "plain.jpg"
    write_image(path, random_ldr(8, 8, 3))
    with pytest.raises(exposures.ExifError, match="plain.jpg"):
        exposures.exif_exposure_time(path)
