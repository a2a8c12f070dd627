"""Width x height of an encoded PNG or JPEG from its header, without decoding it.

Used by the pixel budget (`serving.server.budget`) to size `serving_bytes` requests
before TensorFlow decodes anything. PNG: the IHDR chunk (PNG specification, 11.2.2);
JPEG: the first start-of-frame marker (ITU T.81, B.2.2). Anything else -> None (the
signature's own decoding then reports it).
"""

from __future__ import annotations

import struct

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers (baseline, extended, progressive, lossless, ...), not
# DHT (C4), JPG (C8) or DAC (CC).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Markers without a length field.
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in _SOF:
            if position + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        if length < 2:
            return None
        position += 2 + length
    return None


def encoded_image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG, or None for anything else."""
    if not isinstance(data, (bytes, bytearray)):
        return None
    if data.startswith(PNG_MAGIC):
        return _png_size(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def encoded_image_pixels(data: bytes) -> int | None:
    size = encoded_image_size(data)
    return None if size is None else size[0] * size[1]
