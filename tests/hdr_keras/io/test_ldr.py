"""PNG/TIFF/JPEG through OpenCV: [0, 1] float RGB, bit depths, BGR<->RGB, errors."""

from __future__ import annotations

import os
import struct

import cv2
import numpy as np
import pytest

from hdr_keras.io import ImageIOError, read_image, write_image
from hdr_keras.io.ldr import read_ldr, swap_red_blue, write_ldr


def _levels(bits: int, shape=(7, 11, 3), seed: int = 0) -> np.ndarray:
    """Random image whose values are exact multiples of 1 / (2**bits - 1)."""
    top = 2**bits - 1
    rng = np.random.default_rng(seed)
    return (rng.integers(0, top + 1, shape) / top).astype(np.float32)


@pytest.mark.parametrize("extension", [".png", ".tif", ".tiff"])
@pytest.mark.parametrize("bits", [8, 16])
def test_png_tiff_round_trip_is_exact(tmp_path, extension, bits):
    image = _levels(bits)
    path = tmp_path / f"img{extension}"
    write_image(path, image, bit_depth=bits)
    back = read_image(path)
    assert back.dtype == np.float32 and back.shape == image.shape
    np.testing.assert_allclose(back, image, atol=1e-6)
    stored = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert stored.dtype == (np.uint8 if bits == 8 else np.uint16)


def test_arbitrary_floats_are_rounded_and_clipped(tmp_path):
    image = np.random.default_rng(2).uniform(-0.5, 1.5, (6, 5, 3)).astype(np.float32)
    for bits in (8, 16):
        write_image(tmp_path / "x.png", image, bit_depth=bits)
        step = 1 / (2**bits - 1)
        error = np.abs(read_image(tmp_path / "x.png") - np.clip(image, 0, 1))
        assert error.max() <= step / 2 + 1e-6


def test_jpeg_is_approximate_and_8_bit_only(tmp_path):
    y, x = np.mgrid[0:48, 0:64] / 64.0
    image = np.stack([x, y, 0.5 + 0 * x], axis=-1).astype(np.float32)
    write_image(tmp_path / "smooth.jpg", image, quality=95)
    assert np.abs(read_image(tmp_path / "smooth.jpg") - image).mean() < 0.01
    write_image(tmp_path / "low.jpeg", image, quality=10)
    assert (tmp_path / "low.jpeg").stat().st_size < (
        tmp_path / "smooth.jpg"
    ).stat().st_size
    with pytest.raises(ImageIOError, match="bit_depth=16"):
        write_image(tmp_path / "deep.jpg", image, bit_depth=16)
    assert not (tmp_path / "deep.jpg").exists()


def test_channel_order_is_rgb(tmp_path):
    red_bgr = np.zeros((4, 5, 3), np.uint8)
    red_bgr[..., 2] = 255  # OpenCV stores B, G, R
    cv2.imwrite(str(tmp_path / "red.png"), red_bgr)
    image = read_image(tmp_path / "red.png")
    np.testing.assert_array_equal(image[0, 0], [1.0, 0.0, 0.0])
    blue = np.zeros((4, 5, 3), np.float32)
    blue[..., 2] = 1.0
    write_image(tmp_path / "blue.tif", blue, bit_depth=16)
    stored = cv2.imread(str(tmp_path / "blue.tif"), cv2.IMREAD_UNCHANGED)
    assert stored[0, 0].tolist() == [65535, 0, 0]  # blue first in OpenCV's order
    rgb = np.arange(6).reshape(1, 2, 3)
    np.testing.assert_array_equal(swap_red_blue(swap_red_blue(rgb)), rgb)


def test_grey_and_alpha(tmp_path):
    grey = (np.arange(20, dtype=np.uint16).reshape(4, 5) * 3000).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "grey16.png"), grey)
    image = read_image(tmp_path / "grey16.png")
    assert image.shape == (4, 5, 3)
    np.testing.assert_allclose(image[..., 1], grey / 65535.0, atol=1e-7)
    bgra = np.zeros((3, 3, 4), np.uint8)
    bgra[..., 1] = 255
    bgra[..., 3] = 10
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    np.testing.assert_array_equal(read_image(tmp_path / "alpha.png")[1, 1], [0, 1, 0])
    write_image(tmp_path / "g.png", grey / 65535.0, bit_depth=16)  # [H, W] input
    assert cv2.imread(str(tmp_path / "g.png"), cv2.IMREAD_UNCHANGED).ndim == 2


def test_exif_orientation_is_applied(tmp_path):
    image = np.zeros((4, 8, 3), np.uint8)
    image[:, :4] = 255  # left half white
    jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 100])[1].tobytes()
    # Minimal EXIF block: little-endian TIFF header, one IFD entry Orientation = 6
    # ("rotate 90 degrees clockwise to display").
    entry = struct.pack("<HHIHH", 0x0112, 3, 1, 6, 0)
    tiff = b"II*\x00" + struct.pack("<IH", 8, 1) + entry + struct.pack("<I", 0)
    app1 = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    (tmp_path / "rotated.jpg").write_bytes(jpeg[:2] + segment + jpeg[2:])
    upright = read_image(tmp_path / "rotated.jpg")
    assert upright.shape == (8, 4, 3)
    assert upright[:4].mean() > 0.9 and upright[4:].mean() < 0.1  # top half white


def test_integer_inputs_and_nan(tmp_path):
    write_ldr(tmp_path / "u8.png", np.full((2, 2, 3), 51, np.uint8))
    np.testing.assert_allclose(read_ldr(tmp_path / "u8.png"), 0.2, atol=1e-7)
    bad = np.zeros((2, 2, 3))
    bad[1, 1, 1] = np.nan
    with pytest.raises(ImageIOError, match="NaN"):
        write_image(tmp_path / "nan.png", bad)
    assert os.listdir(tmp_path) == ["u8.png"]  # no temporary file left behind


def test_truncated_empty_and_missing_files(shared_data, tmp_path):
    data = (shared_data / "memorial_church_debevec" / "memorial0066.png").read_bytes()
    (tmp_path / "memorial_cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageIOError, match="memorial_cut.png"):
        read_image(tmp_path / "memorial_cut.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageIOError, match="empty.jpg"):
        read_image(tmp_path / "empty.jpg")
    with pytest.raises(FileNotFoundError, match="absent.png"):
        read_image(tmp_path / "absent.png")


def test_real_pngs_and_jpegs_read_as_unit_floats(shared_data):
    for path in sorted((shared_data / "memorial_church_debevec").glob("*.png")):
        image = read_image(path)
        assert image.shape == (768, 512, 3) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
    means = []
    for path in sorted(
        (shared_data / "colour_hdri_tests" / "frobisher_001").glob("*.jpg")
    ):
        image = read_image(str(path))
        assert image.shape == (426, 640, 3) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
        means.append(image.mean())
    assert len(means) == 3 and means == sorted(means)  # t = 0.125, 1, 8 s
