"""Exposure files: Kalantari stops, exposure times with fractions, OpenCV image lists."""

from __future__ import annotations

import numpy as np
import pytest

from hdr_keras.io import (
    ImageIOError,
    read_exposure_biases,
    read_exposure_times,
    read_image_list,
)


def test_stops_file(tmp_path):
    path = tmp_path / "exposure.txt"
    path.write_text("0\n2\n4\n")
    biases = read_exposure_biases(path)
    assert biases.dtype == np.float32
    np.testing.assert_array_equal(biases, [0, 2, 4])
    path.write_text("# Kalantari stack\r\n\r\n-1.5  # under\r\n0.0\r\n  +2\r\n\r\n")
    np.testing.assert_array_equal(read_exposure_biases(str(path)), [-1.5, 0, 2])


def test_times_with_fractions(tmp_path):
    path = tmp_path / "times.txt"
    path.write_text("1/250\n0.5\n8\n 1/3 \n")
    times = read_exposure_times(path)
    assert times.dtype == np.float64
    np.testing.assert_allclose(times, [0.004, 0.5, 8.0, 1 / 3], rtol=1e-15)


def test_memorial_shutter_times_and_image_list_agree(shared_data):
    folder = shared_data / "memorial_church_debevec"
    times = read_exposure_times(folder / "shutter_times.txt")
    np.testing.assert_allclose(times, 32.0 / 2.0 ** np.arange(16))
    entries = read_image_list(folder / "memorial.hdr_image_list.txt")
    assert len(entries) == 16
    assert entries[0] == ("memorial0061.png", 32.0)
    assert entries[-1][0] == "memorial0076.png" and entries[-1][1] == 1 / 1024
    np.testing.assert_allclose([seconds for _, seconds in entries], times)
    assert all((folder / name).is_file() for name, _ in entries)


def test_image_list_time_column(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("a b.png 1/30\nc.jpg 2\n")
    assert read_image_list(path, value="time") == [("a b.png", 1 / 30), ("c.jpg", 2.0)]
    assert read_image_list(path)[1] == ("c.jpg", 0.5)
    with pytest.raises(ValueError, match="inverse_time"):
        read_image_list(path, value="stops")


@pytest.mark.parametrize(
    "reader, text, line",
    [
        (read_exposure_biases, "0\nabc\n4\n", 2),
        (read_exposure_biases, "0\n\n# c\n1 2\n", 4),
        (read_exposure_times, "1/250\n-0.5\n", 2),
        (read_exposure_times, "1/0\n", 1),
        (read_exposure_times, "0.1\n1/2/3\n", 2),
        (read_exposure_times, "0.1\nnan\n", 2),
        (read_image_list, "a.png 1\nb.png\n", 2),
        (read_image_list, "a.png 0\n", 1),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, reader, text, line):
    path = tmp_path / "bad_exposure.txt"
    path.write_text(text)
    with pytest.raises(ImageIOError, match=rf"bad_exposure\.txt: line {line}:"):
        reader(path)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    with pytest.raises(ImageIOError, match="empty.txt: no values"):
        read_exposure_times(tmp_path / "empty.txt")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        read_exposure_biases(tmp_path / "missing.txt")
