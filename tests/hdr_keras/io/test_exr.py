"""OpenEXR reader/writer: channel order by name, layouts, real sample files, round trips."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

from hdr_keras.io import ImageIOError, read_image, write_image
from hdr_keras.io.exr import REC709_PRIMARIES, read_exr
from hdr_keras.io.radiance import primaries_to_xyz

LUMINANCE = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
# Exact Rec. 709 / D65 luminance weights, as OpenEXR derives them from chromaticities.
REC709_Y = primaries_to_xyz(REC709_PRIMARIES)[1].astype(np.float32)


def _raw_channels(path) -> dict:
    """The file's channels by name, read with the bindings directly."""
    with OpenEXR.File(str(path), separate_channels=True) as exr:
        return {name: np.array(ch.pixels) for name, ch in exr.channels().items()}


def _write_channels(path, channels: dict) -> None:
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, channels) as exr:
        exr.write(str(path))


def test_crop_channels_are_read_by_name(shared_data):
    path = shared_data / "marcelsan_sihdr_crops" / "crops" / "0001.exr"
    with OpenEXR.File(str(path), header_only=True) as exr:
        stored_order = [channel.name for channel in exr.header()["channels"]]
    assert stored_order == ["B", "G", "R"]  # alphabetical in the file
    image = read_image(path)
    assert image.shape == (512, 512, 3) and image.dtype == np.float32
    raw = _raw_channels(path)
    for index, name in enumerate("RGB"):
        np.testing.assert_array_equal(image[..., index], raw[name])


def test_crop_matches_its_ldr_input(shared_data):
    folder = shared_data / "marcelsan_sihdr_crops" / "crops"
    hdr, ldr = read_image(folder / "0001.exr"), read_image(folder / "0001.png")
    valid = (ldr.max(-1) < 0.95) & (ldr @ LUMINANCE > 0.02)
    log_hdr = np.log(hdr @ LUMINANCE + 1e-6)[valid]
    assert np.corrcoef(log_hdr, np.log(ldr @ LUMINANCE)[valid])[0, 1] > 0.9

    def red_correlation(hdr_red):
        return np.corrcoef(np.log(hdr_red[valid] + 1e-6), ldr[..., 0][valid])[0, 1]

    assert red_correlation(hdr[..., 0]) > red_correlation(hdr[..., 2]) + 0.02


def test_rgba_scanline_file_drops_alpha(shared_data):
    path = shared_data / "openexr_images" / "ScanLines" / "Desk.exr"
    image = read_exr(path)
    assert image.shape == (874, 644, 3) and image.dtype == np.float32
    raw = _raw_channels(path)
    assert set(raw) == {"R", "G", "B", "A"}
    np.testing.assert_array_equal(image[..., 2], raw["B"].astype(np.float32))
    assert image.max() > 100  # HDR content, not clipped


def test_tiled_file(shared_data):
    image = read_image(shared_data / "openexr_images" / "Tiles" / "GoldenGate.exr")
    assert image.shape == (860, 1262, 3)
    assert np.all(np.isfinite(image)) and 600 < image.max() < 700


def test_single_float_channel_is_replicated(shared_data):
    path = shared_data / "openexr_images" / "TestImages" / "WideFloatRange.exr"
    image = read_image(path)
    assert image.shape == (500, 500, 3) and image.dtype == np.float32
    green = _raw_channels(path)["G"]
    for index in range(3):
        np.testing.assert_array_equal(image[..., index], green)
    assert image.max() > 1e37 and image.min() < -1e37


def test_nan_and_inf_are_preserved(shared_data):
    folder = shared_data / "openexr_images" / "TestImages"
    image = read_image(folder / "BrightRingsNanInf.exr")
    assert np.isnan(image).any() and np.isinf(image).any()
    clean = read_image(folder / "BrightRings.exr")
    finite = np.isfinite(image)
    np.testing.assert_array_equal(image[finite], clean[finite])
    all_half = read_image(folder / "AllHalfValues.exr")
    assert (
        np.isnan(all_half).any()
        and np.abs(all_half[np.isfinite(all_half)]).max() == 65504
    )


def test_luminance_chroma_file_is_converted(shared_data):
    path = shared_data / "openexr_images" / "LuminanceChroma" / "CrissyField.exr"
    image = read_image(path)
    assert image.shape == (810, 1218, 3) and np.all(np.isfinite(image))
    raw = {
        name: plane.astype(np.float32) for name, plane in _raw_channels(path).items()
    }
    # Luminance is kept exactly; at the chroma sample sites R/Y - 1 equals RY.
    np.testing.assert_allclose(image @ REC709_Y, raw["Y"], rtol=1e-4, atol=1e-6)
    luminance = raw["Y"][::2, ::2]
    bright = luminance > 0.05
    red_chroma = image[::2, ::2, 0] / luminance - 1
    np.testing.assert_allclose(red_chroma[bright], raw["RY"][bright], atol=2e-3)
    assert image.std(axis=-1).mean() > 0.01  # a colour image, not grey


def test_synthetic_luminance_chroma_round_trip(tmp_path):
    rgb = np.random.default_rng(1).uniform(0.1, 2.0, (6, 10, 3)).astype(np.float32)
    y = rgb @ REC709_Y
    channels = {"Y": y, "RY": rgb[..., 0] / y - 1, "BY": rgb[..., 2] / y - 1}
    _write_channels(tmp_path / "yc.exr", channels)
    np.testing.assert_allclose(read_image(tmp_path / "yc.exr"), rgb, rtol=1e-5)


@pytest.mark.parametrize("half", [False, True])
def test_write_read_round_trip(tmp_path, half):
    rng = np.random.default_rng(0)
    image = (10.0 ** rng.uniform(-3, 4, (9, 13, 3))).astype(np.float32)
    image[0, 0] = [np.nan, np.inf, -2.5]
    path = tmp_path / "sub" / "out.exr"
    write_image(path, image, half=half)
    back = read_image(path)
    expected = image.astype(np.float16).astype(np.float32) if half else image
    np.testing.assert_array_equal(back, expected)
    with OpenEXR.File(str(path)) as exr:
        compression = exr.header()["compression"]  # the dict is emptied on close
        pixel_type = exr.channels()["RGB"].pixels.dtype
    assert compression == OpenEXR.ZIP_COMPRESSION
    assert pixel_type == (np.float16 if half else np.float32)


def test_half_clips_finite_values_to_the_half_range(tmp_path):
    image = np.full((2, 3, 3), 1e6, np.float32)
    write_image(tmp_path / "big.exr", image, half=True)
    assert read_image(tmp_path / "big.exr").max() == 65504


def test_grey_and_layered_files(tmp_path):
    grey = np.arange(12, dtype=np.float32).reshape(3, 4)
    write_image(tmp_path / "grey.exr", grey)
    assert list(_raw_channels(tmp_path / "grey.exr")) == ["Y"]
    np.testing.assert_array_equal(
        read_image(tmp_path / "grey.exr"), np.stack([grey] * 3, -1)
    )
    layered = {f"beauty.{c}": grey + i for i, c in enumerate("RGB")}
    _write_channels(tmp_path / "layered.exr", {**layered, "depth.Z": grey})
    np.testing.assert_array_equal(
        read_image(tmp_path / "layered.exr")[..., 2], grey + 2
    )


def test_unusable_layout_truncated_and_missing_files(shared_data, tmp_path):
    _write_channels(tmp_path / "depth.exr", {"Z": np.zeros((2, 2), np.float32)})
    with pytest.raises(ImageIOError, match=r"depth\.exr.*\['Z'\]"):
        read_image(tmp_path / "depth.exr")
    data = (shared_data / "openexr_images" / "ScanLines" / "Desk.exr").read_bytes()
    (tmp_path / "desk_cut.exr").write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageIOError, match="desk_cut.exr"):
        read_image(tmp_path / "desk_cut.exr")
    with pytest.raises(FileNotFoundError, match="missing.exr"):
        read_image(tmp_path / "missing.exr")
