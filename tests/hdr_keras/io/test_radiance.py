"""Radiance RGBE reader/writer: real files, round trips, layouts, errors, dispatch."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from hdr_keras.io import ImageIOError, read_image, write_image
from hdr_keras.io.radiance import (
    RADIANCE_PRIMARIES,
    float_to_rgbe,
    primaries_to_xyz,
    read_hdr,
    rgbe_to_float,
    write_hdr,
)

LUMINANCE = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)

REAL_FILES = {
    "memorial_church_debevec/memorial.hdr": (768, 512),
    "polyhaven_1k/venice_sunset_1k.hdr": (512, 1024),
    "polyhaven_1k/studio_small_03_1k.hdr": (512, 1024),
    "polyhaven_1k/potsdamer_platz_1k.hdr": (512, 1024),
    "polyhaven_1k/st_fagans_interior_1k.hdr": (512, 1024),
    "pu21/nancy_church.hdr": (1024, 768),
    "colour_hdri_examples/radiance/Grace_Cathedral.hdr": (250, 500),
    "colour_hdri_examples/radiance/HDRMark_small.hdr": (512, 512),
}


def _raw_file(path: Path, resolution: str, pixels: bytes, header: str = "") -> Path:
    """Writes a Radiance file by hand: header lines, blank line, resolution, data."""
    text = header or "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n"
    path.write_bytes(f"{text}\n{resolution}\n".encode() + pixels)
    return path


def _wide_range_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Positive float32 image spanning 1e-4..1e4 with moderately coloured pixels."""
    rng = np.random.default_rng(seed)
    level = 10.0 ** rng.uniform(-4, 4, (height, width, 1))
    return (level * rng.uniform(0.5, 1.0, (height, width, 3))).astype(np.float32)


def test_memorial_decodes_with_correct_orientation(shared_data):
    folder = shared_data / "memorial_church_debevec"
    hdr = read_image(folder / "memorial.hdr")
    assert hdr.shape == (768, 512, 3) and hdr.dtype == np.float32
    assert 270 < hdr.max() < 280 and hdr.min() >= 0
    ldr_luminance = (read_image(folder / "memorial0066.png") @ LUMINANCE).ravel()
    log_luminance = np.log(hdr @ LUMINANCE + 1e-6)
    upright = np.corrcoef(log_luminance.ravel(), ldr_luminance)[0, 1]
    flipped = np.corrcoef(log_luminance[::-1].ravel(), ldr_luminance)[0, 1]
    assert upright > 0.8 and flipped < 0.3


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_files_decode_with_expected_shapes(shared_data, name):
    image = read_image(shared_data / name)
    assert image.shape == REAL_FILES[name] + (3,)
    assert image.dtype == np.float32 and image.flags["C_CONTIGUOUS"]
    assert np.all(np.isfinite(image)) and image.min() >= 0 and image.max() > 1


@pytest.mark.parametrize(
    "name", ["pu21/nancy_church.hdr", "polyhaven_1k/venice_sunset_1k.hdr"]
)
def test_agrees_with_opencv_where_opencv_can_read(shared_data, name):
    path = str(shared_data / name)
    reference = cv2.imread(path, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)
    np.testing.assert_allclose(read_image(path), reference[..., ::-1], rtol=1e-6)


@pytest.mark.parametrize("width", [7, 8, 333])
@pytest.mark.parametrize("rle", [True, False])
def test_round_trip_wide_range(tmp_path, width, rle):
    image = _wide_range_image(19, width)
    path = tmp_path / f"img_{width}.hdr"
    write_image(path, image, rle=rle)
    back = read_image(path)
    assert back.shape == image.shape and back.dtype == np.float32
    error = np.abs(back - image) / image
    assert error.max() < 0.01
    # The brightest channel keeps 8 significant bits.
    assert (np.abs(back - image).max(-1) / image.max(-1)).max() <= 1 / 256 + 1e-6
    data = path.read_bytes()
    body = data[
        data.index(f"-Y 19 +X {width}\n".encode()) + len(f"-Y 19 +X {width}\n") :
    ]
    if rle and width >= 8:
        assert body[:4] == bytes((2, 2, width >> 8, width & 255))  # new-style RLE
    else:
        assert body == float_to_rgbe(image).tobytes()  # flat
    # OpenCV reads what we write.
    reference = cv2.imread(str(path), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(back, reference[..., ::-1])


def test_rle_compresses_flat_regions_and_round_trips(tmp_path):
    image = np.ones((16, 300, 3), np.float32)
    image[:, 100:] = [4.0, 2.0, 1.0]
    image[5, 7] = 1e3
    write_hdr(tmp_path / "a.hdr", image)
    assert (tmp_path / "a.hdr").stat().st_size < 16 * 300 * 4 / 10
    np.testing.assert_allclose(read_hdr(tmp_path / "a.hdr"), image, rtol=1 / 256)


def test_rgbe_encoding_edge_values():
    values = np.array(
        [[0, 0, 0], [1, 1, 1], [1, 0.5, 0.25], [255.9, 1, 0], [1e-40] * 3]
    )
    rgbe = float_to_rgbe(values)
    assert rgbe[0].tolist() == [0, 0, 0, 0] and rgbe[4].tolist() == [0, 0, 0, 0]
    assert rgbe[1].tolist() == [128, 128, 128, 129]
    assert rgbe[3, 0] == 128 and rgbe[3, 3] == 137  # 255.9 rounds up to 256
    np.testing.assert_allclose(rgbe_to_float(rgbe)[:3], values[:3])
    assert float_to_rgbe(np.array([-1.0, 2.0, 2.0]))[0] == 0  # negatives -> 0


def test_grey_array_is_written_as_three_equal_channels(tmp_path):
    grey = np.linspace(0.01, 100, 12 * 9, dtype=np.float32).reshape(12, 9)
    write_image(tmp_path / "grey.hdr", grey)
    back = read_image(tmp_path / "grey.hdr")
    assert back.shape == (12, 9, 3)
    np.testing.assert_allclose(back, np.repeat(grey[..., None], 3, -1), rtol=1 / 128)


@pytest.mark.parametrize(
    "resolution, transform",
    [
        ("-Y 3 +X 5", lambda img: img),
        ("+Y 3 +X 5", lambda img: img[::-1]),
        ("-Y 3 -X 5", lambda img: img[:, ::-1]),
        ("+Y 3 -X 5", lambda img: img[::-1, ::-1]),
        ("+X 5 -Y 3", lambda img: img.transpose(1, 0, 2)),
        ("-X 5 -Y 3", lambda img: img.transpose(1, 0, 2)[::-1]),
        ("+X 5 +Y 3", lambda img: img.transpose(1, 0, 2)[:, ::-1]),
        ("-X 5 +Y 3", lambda img: img.transpose(1, 0, 2)[::-1, ::-1]),
    ],
)
def test_orientations_become_top_down_left_right(tmp_path, resolution, transform):
    image = np.arange(1, 16, dtype=np.float32).reshape(3, 5, 1) * [1.0, 0.5, 0.25]
    stored = np.ascontiguousarray(transform(image))  # scanline order of the file
    path = _raw_file(tmp_path / "o.hdr", resolution, float_to_rgbe(stored).tobytes())
    np.testing.assert_allclose(read_hdr(path), image, rtol=1 / 128)


def test_old_style_rle_and_lenient_header(tmp_path):
    a, b, c = [128, 64, 32, 129], [200, 100, 50, 130], [130, 130, 130, 128]
    # (1, 1, 1, n) repeats the previous pixel n << shift times; shift grows by 8 for
    # consecutive repeat pixels: 1 + 3 + (1 << 8) + 40 = 300 pixels.
    line1 = [a, [1, 1, 1, 3], [1, 1, 1, 1]] + [b] * 40
    line2 = [b, [1, 1, 1, 9]] + [c] * 290  # 10 + 290 pixels
    data = np.array(line1 + line2, np.uint8).tobytes()
    header = "VIEW= -vtv\n#?RGBE\nsome program -x\n"  # magic after another line
    path = _raw_file(tmp_path / "old.pic", "-Y 2 +X 300", data, header)
    expected = np.array([[a] * 260 + [b] * 40, [b] * 10 + [c] * 290], np.uint8)
    np.testing.assert_array_equal(read_image(path), rgbe_to_float(expected))


def test_mixed_rle_and_flat_scanlines(tmp_path):
    image = _wide_range_image(3, 12, seed=3)
    write_hdr(tmp_path / "row.hdr", image[:1])
    rle_row = (tmp_path / "row.hdr").read_bytes().split(b"+X 12\n", 1)[1]
    flat_rows = float_to_rgbe(image[1:]).tobytes()
    path = _raw_file(tmp_path / "mixed.hdr", "-Y 3 +X 12", rle_row + flat_rows)
    np.testing.assert_array_equal(read_hdr(path), rgbe_to_float(float_to_rgbe(image)))


def test_crlf_header(tmp_path):
    pixels = float_to_rgbe(np.ones((2, 3, 3))).tobytes()
    path = _raw_file(tmp_path / "crlf.hdr", "-Y 2 +X 3", pixels, "#?RADIANCE\r\n\r")
    np.testing.assert_allclose(read_hdr(path), 1.0)


def test_exposure_lines_divide_pixels(tmp_path):
    path = tmp_path / "e.hdr"
    write_hdr(path, np.full((4, 9, 3), 2.0, np.float32))
    data = path.read_bytes().replace(
        b"FORMAT=", b"EXPOSURE=2\nEXPOSURE= 4\nCOLORCORR= 1 2 0.5\nFORMAT="
    )
    path.write_bytes(data)
    np.testing.assert_allclose(read_image(path)[0, 0], [0.25, 0.125, 0.5])
    np.testing.assert_allclose(read_image(path, apply_exposure=False), 2.0)


def test_xyze_is_converted_to_rgb(tmp_path):
    rgb = np.array([[[1.0, 1.0, 1.0], [0.5, 0.25, 0.125]]] * 8, np.float32)
    xyz = rgb @ primaries_to_xyz(RADIANCE_PRIMARIES).T
    header = "#?RADIANCE\nFORMAT=32-bit_rle_xyze\n"
    pixels = float_to_rgbe(xyz).tobytes()
    path = _raw_file(tmp_path / "xyz.hdr", "-Y 8 +X 2", pixels, header)
    np.testing.assert_allclose(read_hdr(path), rgb, rtol=0.02, atol=2e-3)
    np.testing.assert_allclose(primaries_to_xyz(RADIANCE_PRIMARIES) @ np.ones(3), 1)


def test_truncated_file_names_file_and_scanline(shared_data, tmp_path):
    data = (shared_data / "memorial_church_debevec" / "memorial.hdr").read_bytes()
    for cut in (60, 2000, len(data) // 2, len(data) - 1):
        path = tmp_path / "memorial_cut.hdr"
        path.write_bytes(data[:cut])
        with pytest.raises(ImageIOError, match="memorial_cut.hdr") as info:
            read_image(path)
        if cut > 200:
            assert "scanline" in str(info.value) and "of 768" in str(info.value)


@pytest.mark.parametrize(
    "header, resolution, pixels, message",
    [
        ("#?RADIANCE\n", "-Y 1 +X 8", b"\x02\x02\x00\x09" + b"\x00" * 40, "width 8"),
        ("#?RADIANCE\n", "-Y 1 +X 8", b"\x02\x02\x00\x08\x00" + b"\x00" * 40, "zero"),
        (
            "#?RADIANCE\n",
            "-Y 1 +X 8",
            b"\x02\x02\x00\x08\x8a\x01" + b"\x00" * 40,
            "over",
        ),
        ("#?RADIANCE\n", "Y 1 X 8", b"", "resolution"),
        ("#?RADIANCE\nFORMAT=24-bit_rgb\n", "-Y 1 +X 1", b"\x00" * 4, "FORMAT"),
        ("hello\n", "-Y 1 +X 1", b"\x00" * 4, "not a Radiance"),
        ("#?RADIANCE\nEXPOSURE=abc\n", "-Y 1 +X 1", b"\x00" * 4, "line 2"),
        ("#?RADIANCE\n", "-Y 1 +X 8", b"\x02\x02", "truncated RLE scanline 1 of 1"),
        ("#?RADIANCE\n", "-Y 9000 +X 9000", b"\x00" * 64, "cannot fit"),
        ("#?RADIANCE\n", "-Y 2 +X 3", b"\x80" * 12, "missing scanline 2 of 2"),
        ("#?RADIANCE\n", "-Y 2 +X 3", b"\x80" * 16, "truncated flat scanline 2"),
    ],
)
def test_corrupt_files_raise(tmp_path, header, resolution, pixels, message):
    path = _raw_file(tmp_path / "bad.hdr", resolution, pixels, header)
    with pytest.raises(ImageIOError, match=message) as info:
        read_hdr(path)
    assert str(path) in str(info.value)


def test_missing_file_and_unsupported_extension(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.hdr"):
        read_image(tmp_path / "nothing.hdr")
    with pytest.raises(ImageIOError, match=r"image\.bmp.*\.hdr.*\.exr.*\.png"):
        read_image(str(tmp_path / "image.bmp"))
    with pytest.raises(ImageIOError, match="unsupported extension"):
        write_image(tmp_path / "image.webp", np.zeros((2, 2, 3)))


def test_failed_write_leaves_no_file_and_keeps_old_one(tmp_path):
    path = tmp_path / "new" / "folder" / "out.hdr"
    write_image(path, np.ones((4, 4, 3)))  # creates parent folders
    before = path.read_bytes()
    bad = np.ones((4, 4, 3))
    bad[0, 0, 0] = np.nan
    with pytest.raises(ImageIOError, match="NaN") as info:
        write_image(path, bad)
    assert str(info.value).startswith(f"{path}: ")  # not the temporary file's name
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["out.hdr"]
    with pytest.raises(ImageIOError, match="shape"):
        write_image(tmp_path / "x.hdr", np.ones((4, 4, 2)))
    assert not (tmp_path / "x.hdr").exists()
