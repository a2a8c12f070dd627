"""Radiance RGBE (.hdr / .pic) reader and writer in pure numpy.

Pixels are linear radiance as stored (float32 RGB, [H, W, 3], row 0 at the top). Each
pixel is stored as three 8-bit mantissas and a shared exponent byte e and decodes to
mantissa * 2 ** (e - 136) (e == 0 means black), the convention of OpenCV, stb_image
and most readers.

Reading is lenient about the header: the magic line ('#?RADIANCE', '#?RGBE', ...) may
appear anywhere in it, unknown lines are ignored. Supported pixel data: new-style RLE
scanlines, flat scanlines and old-style RLE (mixed per scanline, as Radiance allows),
FORMAT=32-bit_rle_rgbe and 32-bit_rle_xyze (XYZ converted to RGB with the file's
PRIMARIES, or Radiance's default primaries). All 8 resolution-string orientations
('-Y H +X W' is the standard one) are turned into top-to-bottom, left-to-right rows.

Speed: run headers of RLE scanlines are walked in a tight Python loop that only records
their offsets; the bytes are expanded for the whole image with one numpy gather.
"""

from __future__ import annotations

import re

import numpy as np

from hdr_keras.io.errors import ImageIOError, PathLike, check_image_array

RADIANCE_EXTENSIONS = (".hdr", ".pic", ".rgbe")
# Radiance's own primaries (x, y for R, G, B, white); white is equal-energy.
RADIANCE_PRIMARIES = (0.640, 0.330, 0.290, 0.600, 0.150, 0.060, 1 / 3, 1 / 3)
_MIN_RLE_WIDTH, _MAX_RLE_WIDTH = 8, 0x7FFF
_MIN_RUN = 4  # shortest repeat the writer stores as a run (as Radiance does)
_RESOLUTION = re.compile(rb"^([-+])([XY])\s+(\d+)\s+([-+])([XY])\s+(\d+)\s*$")
# 2 ** (e - 136) for every exponent byte e; e == 0 encodes black.
_SCALE = np.ldexp(np.float32(1.0), np.arange(256, dtype=np.int32) - 136)
_SCALE[0] = 0.0


class _CorruptRun(Exception):
    """Internal: a run inside an RLE scanline is invalid (message says why)."""


def rgbe_to_float(rgbe: np.ndarray) -> np.ndarray:
    """Decodes uint8 [..., 4] RGBE (or XYZE) pixels to float32 [..., 3]."""
    rgbe = np.asarray(rgbe, dtype=np.uint8)
    return rgbe[..., :3] * _SCALE[rgbe[..., 3]][..., None]


def float_to_rgbe(image: np.ndarray) -> np.ndarray:
    """Encodes float [..., 3] radiance to uint8 [..., 4] RGBE with rounding.

    Negative values are stored as 0, values above the largest RGBE value (about 1.7e38)
    as that value. The brightest channel keeps 8 significant bits (relative error at
    most 1/256); dimmer channels share its exponent. Non-finite values are not checked
    here (`write_hdr` rejects them).
    """
    rgb = np.maximum(np.asarray(image, dtype=np.float64), 0.0)
    peak = rgb.max(axis=-1)
    mantissa, exponent = np.frexp(peak)
    exponent = exponent + (np.round(mantissa * 256.0) >= 256.0)
    ebyte = np.minimum(exponent + 128, 255)
    values = np.round(rgb * np.ldexp(1.0, 136 - ebyte)[..., None])
    out = np.zeros(rgb.shape[:-1] + (4,), dtype=np.uint8)
    visible = (ebyte > 0) & (peak > 0)
    out[visible, :3] = np.clip(values[visible], 0, 255)
    out[visible, 3] = ebyte[visible]
    return out


def primaries_to_xyz(primaries) -> np.ndarray:
    """3x3 matrix from linear RGB to CIE XYZ for chromaticities (rx ry gx gy bx by wx wy).

    The white point maps to Y = 1, so row 1 holds the luminance weights of the space.
    """
    x, y = np.asarray(primaries, dtype=np.float64).reshape(4, 2).T
    xyz = np.stack([x / y, np.ones(4), (1.0 - x - y) / y])  # columns: R, G, B, white
    scale = np.linalg.solve(xyz[:, :3], xyz[:, 3])
    return xyz[:, :3] * scale[None, :]


def read_hdr(path: PathLike, apply_exposure: bool = True) -> np.ndarray:
    """Reads a Radiance .hdr/.pic file as float32 [H, W, 3] linear RGB.

    Args:
        path: the file. Missing -> FileNotFoundError; undecodable -> ImageIOError.
        apply_exposure: divide the pixels by the product of the header's EXPOSURE=
            values and COLORCORR= triples, recovering the radiance before a program
            such as pfilt scaled them (Radiance's convention). False returns the pixel
            values as stored.
    """
    with open(path, "rb") as stream:
        data = stream.read()
    header, pos = _parse_header(path, data)
    end = data.find(b"\n", pos)
    match = _RESOLUTION.match(data[pos:end]) if end >= 0 else None
    if match is None:
        raise ImageIOError(path, f"bad resolution line {data[pos:pos + 40]!r}")
    sign1, axis1, n1, sign2, axis2, n2 = (g.decode() for g in match.groups())
    n_scan, length = int(n1), int(n2)
    if axis1 == axis2 or n_scan == 0 or length == 0:
        raise ImageIOError(path, f"bad resolution line {match.group(0)!r}")
    # Refuse absurd sizes before allocating (RLE packs at most about 63:1); smaller
    # images are decoded so that a truncation is reported with its scanline.
    if n_scan * length > 16 * len(data) + 2**24:
        raise ImageIOError(
            path, f"{length}x{n_scan} pixels cannot fit in {len(data)} bytes (corrupt)"
        )
    rgbe = _decode_scanlines(path, data, end + 1, n_scan, length)
    image = rgbe_to_float(rgbe)
    if header["format"] == "xyze":
        try:
            to_rgb = np.linalg.inv(primaries_to_xyz(header["primaries"]))
        except np.linalg.LinAlgError:
            raise ImageIOError(path, f"degenerate PRIMARIES {header['primaries']}")
        image = image @ to_rgb.T.astype(np.float32)
    if apply_exposure and np.any(header["exposure"] != 1.0):
        image /= header["exposure"].astype(np.float32)
    return np.ascontiguousarray(_orient(image, sign1 + axis1, sign2 + axis2))


def write_hdr(path: PathLike, image: np.ndarray, rle: bool = True) -> None:
    """Writes float radiance [H, W, 3] (or [H, W] grey) as a Radiance RGBE file.

    Args:
        path: destination (written directly; `hdr_keras.io.write_image` is atomic).
        image: linear radiance; negatives are stored as 0; NaN/Inf raise ImageIOError.
        rle: new-style run-length encoding (Radiance's default). Widths below 8 or
            above 32767 cannot be RLE-coded and are always written flat.
    """
    image = check_image_array(path, image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if not np.all(np.isfinite(image)):
        raise ImageIOError(path, "RGBE cannot store NaN or Inf values")
    height, width = image.shape[:2]
    rgbe = float_to_rgbe(image)
    use_rle = rle and _MIN_RLE_WIDTH <= width <= _MAX_RLE_WIDTH
    header = (
        b"#?RADIANCE\n# written by hdr_keras\nFORMAT=32-bit_rle_rgbe\n\n"
        + f"-Y {height} +X {width}\n".encode()
    )
    body = _encode_rle(rgbe) if use_rle else rgbe.tobytes()
    with open(path, "wb") as stream:
        stream.write(header + body)


def _parse_header(path: PathLike, data: bytes) -> tuple[dict, int]:
    """Parses the text header; returns its settings and the resolution line offset."""
    ends = [data.find(blank) for blank in (b"\n\n", b"\n\r\n")]  # LF or CRLF
    end = min((e for e in ends if e >= 0), default=-1)
    if end < 0:
        raise ImageIOError(path, "no end of header (truncated, or not a Radiance file)")
    header = {"format": None, "exposure": np.ones(3), "primaries": None}
    magic = False
    for number, raw in enumerate(data[:end].split(b"\n"), start=1):
        line = raw.strip().decode("latin-1")
        key, _, value = line.partition("=")
        key = key.strip().upper()
        magic |= line.startswith("#?")
        try:
            if key == "FORMAT":
                header["format"] = value.strip()
            elif key in ("EXPOSURE", "COLORCORR"):
                factor = np.array([float(v) for v in value.split()], dtype=np.float64)
                if factor.size not in (1, 3) or np.any(factor <= 0):
                    raise ValueError(value)
                header["exposure"] = header["exposure"] * factor
            elif key == "PRIMARIES":
                header["primaries"] = [float(v) for v in value.split()]
        except ValueError:
            raise ImageIOError(path, f"bad header line {number}: {line!r}") from None
    fmt = header["format"]
    if not magic and fmt is None:
        raise ImageIOError(path, "not a Radiance file (no '#?' magic line in header)")
    if fmt in (None, "32-bit_rle_rgbe"):
        header["format"] = "rgbe"
    elif fmt == "32-bit_rle_xyze":
        header["format"] = "xyze"
        primaries = header["primaries"]
        if primaries is None or len(primaries) != 8 or min(primaries[1::2]) <= 0:
            header["primaries"] = RADIANCE_PRIMARIES
    else:
        raise ImageIOError(path, f"unsupported FORMAT={fmt}")
    return header, data.index(b"\n", end + 1) + 1


def _decode_scanlines(
    path: PathLike, data: bytes, pos: int, n_scan: int, length: int
) -> np.ndarray:
    """Decodes n_scan scanlines of `length` pixels to uint8 [n_scan, length, 4]."""
    buf = np.frombuffer(data, dtype=np.uint8)
    may_rle = _MIN_RLE_WIDTH <= length <= _MAX_RLE_WIDTH
    flat = _whole_flat_image(buf[pos : pos + 4 * n_scan * length], n_scan, length)
    if flat is not None and not (may_rle and _starts_rle(flat[:, 0])):
        return flat
    planar = np.empty((n_scan, 4, length), dtype=np.uint8)
    rle_rows: list[int] = []
    heads: list[int] = []
    for y in range(n_scan):
        where = f"scanline {y + 1} of {n_scan}"
        if pos >= len(data):
            raise ImageIOError(path, f"truncated data: missing {where}")
        head = data[pos : pos + 4]
        if may_rle and head[:2] == b"\x02\x02" and (len(head) < 3 or head[2] < 128):
            if len(head) < 4:
                raise ImageIOError(path, f"truncated RLE {where}")
            if (head[2] << 8 | head[3]) != length:
                raise ImageIOError(path, f"RLE {where} does not have width {length}")
            try:
                pos = _walk_rle_runs(data, pos + 4, length, heads)
            except IndexError:
                raise ImageIOError(path, f"truncated RLE {where}") from None
            except _CorruptRun as error:
                raise ImageIOError(path, f"corrupt RLE {where}: {error}") from None
            if pos > len(data):
                raise ImageIOError(path, f"truncated RLE {where}")
            rle_rows.append(y)
        else:
            pixels, pos = _decode_flat_scanline(path, buf, pos, length, where)
            planar[y] = pixels.T
    if rle_rows:
        planar[rle_rows] = _expand_runs(buf, heads).reshape(-1, 4, length)
    return planar.transpose(0, 2, 1)


def _whole_flat_image(pixels: np.ndarray, n_scan: int, length: int):
    """Fast path: [n_scan, length, 4] if `pixels` is a complete flat image, else None."""
    if pixels.size != 4 * n_scan * length:
        return None
    pixels = pixels.reshape(n_scan, length, 4)
    return None if np.all(pixels[..., :3] == 1, axis=-1).any() else pixels


def _starts_rle(first_pixels: np.ndarray) -> bool:
    """True if any scanline's first 4 bytes look like a new-style RLE header."""
    head = first_pixels
    return bool(np.any((head[:, 0] == 2) & (head[:, 1] == 2) & (head[:, 2] < 128)))


def _walk_rle_runs(data: bytes, pos: int, length: int, heads: list) -> int:
    """Records the offset of every run header of one RLE scanline; returns its end."""
    append = heads.append
    for _ in range(4):
        filled = 0
        while filled < length:
            code = data[pos]
            append(pos)
            if code > 128:
                filled += code - 128
                pos += 2
            elif code:
                filled += code
                pos += code + 1
            else:
                raise _CorruptRun("zero-length run")
        if filled != length:
            raise _CorruptRun(f"runs overflow the scanline ({filled} > {length})")
    return pos


def _expand_runs(buf: np.ndarray, heads: list) -> np.ndarray:
    """Expands the runs whose headers start at `heads` into one uint8 byte stream."""
    heads = np.asarray(heads, dtype=np.int64)
    codes = buf[heads].astype(np.int64)
    literal = codes <= 128
    counts = np.where(literal, codes, codes - 128)
    run = np.repeat(np.arange(heads.size), counts)
    offset = np.arange(run.size) - (np.cumsum(counts) - counts)[run]
    return buf[heads[run] + 1 + offset * literal[run]]


def _decode_flat_scanline(
    path: PathLike, buf: np.ndarray, pos: int, length: int, where: str
) -> tuple[np.ndarray, int]:
    """Decodes a flat or old-style RLE scanline -> (uint8 [length, 4], next offset).

    Old-style RLE: a pixel (1, 1, 1, n) repeats the previous pixel n << shift times,
    shift growing by 8 for each consecutive repeat pixel.
    """
    available = min(length, (buf.size - pos) // 4)
    groups = buf[pos : pos + 4 * available].reshape(-1, 4)
    repeat = np.all(groups[:, :3] == 1, axis=1)
    if not repeat.any():
        if available < length:
            raise ImageIOError(path, f"truncated flat {where}")
        return groups, pos + 4 * length
    index = np.arange(available)
    previous = np.maximum.accumulate(np.where(repeat, -1, index))
    shift = np.where(repeat, np.minimum(8 * (index - previous - 1), 32), 0)
    counts = np.where(repeat, groups[:, 3].astype(np.int64) << shift, 1)
    total = np.cumsum(counts)
    used = int(np.searchsorted(total, length)) + 1
    if used > available or total[used - 1] != length:
        kind = "truncated" if used > available else "overflowing"
        raise ImageIOError(path, f"{kind} old-style RLE {where}")
    if previous[:used].min() < 0:
        raise ImageIOError(path, f"old-style RLE {where} starts with a repeat")
    source = np.repeat(np.where(repeat, previous, index)[:used], counts[:used])
    return groups[source], pos + 4 * used


def _orient(image: np.ndarray, first: str, second: str) -> np.ndarray:
    """Maps scanline order (e.g. '-Y', '+X') to rows top-to-bottom, columns left-right."""
    if first[1] == "Y":  # scanlines are rows; -Y runs top to bottom
        rows = image[::-1] if first[0] == "+" else image
        return rows[:, ::-1] if second[0] == "-" else rows
    columns = image[::-1] if first[0] == "-" else image  # scanlines are columns
    columns = columns[:, ::-1] if second[0] == "+" else columns
    return columns.transpose(1, 0, 2)


def _encode_rle(rgbe: np.ndarray) -> bytes:
    """New-style RLE of uint8 [H, W, 4]: per scanline, each component run-coded."""
    height, width, _ = rgbe.shape
    flat = np.ascontiguousarray(rgbe.transpose(0, 2, 1)).reshape(-1)
    boundary = np.ones(flat.size, dtype=bool)
    boundary[1:] = flat[1:] != flat[:-1]
    boundary[::width] = True  # runs never cross component rows
    starts = np.flatnonzero(boundary)
    lengths = np.diff(np.append(starts, flat.size))
    long_run = lengths >= _MIN_RUN
    run_starts = starts[long_run].tolist()
    run_ends = (starts + lengths)[long_run].tolist()
    bounds = np.searchsorted(starts[long_run] // width, np.arange(4 * height + 1))
    bounds = bounds.tolist()
    data = flat.tobytes()
    out = bytearray()
    scan_header = bytes((2, 2, width >> 8, width & 255))
    for row in range(4 * height):
        if row % 4 == 0:
            out += scan_header
        cursor = row * width
        for i in range(bounds[row], bounds[row + 1]):
            _append_literal(out, data, cursor, run_starts[i])
            value, left = data[run_starts[i]], run_ends[i] - run_starts[i]
            while left > 0:
                count = min(left, 127)
                out += bytes((128 + count, value))
                left -= count
            cursor = run_ends[i]
        _append_literal(out, data, cursor, (row + 1) * width)
    return bytes(out)


def _append_literal(out: bytearray, data: bytes, start: int, stop: int) -> None:
    """Appends data[start:stop] as literal runs of at most 128 bytes."""
    while start < stop:
        count = min(stop - start, 128)
        out.append(count)
        out += data[start : start + count]
        start += count
