"""EXIF reader: the ExposureTime of a JPEG or TIFF file, in seconds.

A small TIFF/JPEG parser (ExposureTime, tag 0x829A, in the Exif IFD or IFD0), so no
imaging library is needed. `hdr_keras.inference.exposures` turns the times of a
bracket into stops.
"""

from __future__ import annotations

import struct
from pathlib import Path

EXPOSURE_TIME_TAG = 0x829A
EXIF_IFD_TAG = 0x8769
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8, 11: 4, 12: 8}


class ExifError(ValueError):
    """A file without a readable EXIF ExposureTime."""


def _tiff_exposure_time(data: bytes, where: str) -> float:
    """ExposureTime from a TIFF structure (an EXIF block or a .tif file)."""
    if data[:2] not in (b"II", b"MM"):
        raise ExifError(f"{where}: not a TIFF/EXIF block")
    order = "<" if data[:2] == b"II" else ">"

    def unpack(fmt: str, offset: int):
        size = struct.calcsize(order + fmt)
        if offset < 0 or offset + size > len(data):
            raise ExifError(f"{where}: truncated EXIF data")
        return struct.unpack_from(order + fmt, data, offset)

    def entries(offset: int) -> dict[int, tuple[int, int, int]]:
        (count,) = unpack("H", offset)
        found = {}
        for index in range(count):
            tag, kind, number = unpack("HHI", offset + 2 + 12 * index)
            found[tag] = (kind, number, offset + 2 + 12 * index + 8)
        return found

    def value_offset(kind: int, number: int, field: int) -> int:
        size = _TYPE_SIZES.get(kind, 1) * number
        return field if size <= 4 else unpack("I", field)[0]

    (magic,) = unpack("H", 2)
    if magic != 42:
        raise ExifError(f"{where}: bad TIFF magic number {magic}")
    ifd0 = entries(unpack("I", 4)[0])
    tags = ifd0
    if EXPOSURE_TIME_TAG not in tags and EXIF_IFD_TAG in ifd0:
        kind, number, field = ifd0[EXIF_IFD_TAG]
        tags = entries(unpack("I", value_offset(kind, number, field))[0])
    if EXPOSURE_TIME_TAG not in tags:
        raise ExifError(f"{where}: no EXIF ExposureTime")
    kind, number, field = tags[EXPOSURE_TIME_TAG]
    offset = value_offset(kind, number, field)
    if kind in (5, 10):  # (S)RATIONAL
        numerator, denominator = unpack("ii" if kind == 10 else "II", offset)
        seconds = numerator / denominator if denominator else 0.0
    elif kind in (11, 12):
        (seconds,) = unpack("f" if kind == 11 else "d", offset)
    else:
        raise ExifError(f"{where}: ExposureTime has unexpected EXIF type {kind}")
    if not seconds > 0:
        raise ExifError(f"{where}: EXIF ExposureTime is {seconds}")
    return float(seconds)


def exif_exposure_time(path: str | Path) -> float:
    """ExposureTime in seconds from the EXIF of a JPEG or TIFF file."""
    path = Path(path)
    with open(path, "rb") as stream:
        head = stream.read(2)
        if head in (b"II", b"MM"):
            return _tiff_exposure_time(head + stream.read(), str(path))
        if head != b"\xff\xd8":
            raise ExifError(f"{path}: EXIF is read from JPEG or TIFF files only")
        while True:
            marker = stream.read(2)
            if len(marker) < 2 or marker[0] != 0xFF or marker[1] in (0xD9, 0xDA):
                break  # end of the headers (start of scan) or a broken file
            (length,) = struct.unpack(">H", stream.read(2) or b"\0\0")
            payload = stream.read(max(0, length - 2))
            if marker[1] == 0xE1 and payload.startswith(b"Exif\0\0"):
                return _tiff_exposure_time(payload[6:], str(path))
    raise ExifError(f"{path}: no EXIF block")
