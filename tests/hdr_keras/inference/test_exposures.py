"""hdr_keras.inference.exposures and the one stops rule of hdr_keras.ops.exposure."""

from __future__ import annotations

import numpy as np
import pytest

from hdr_keras.inference import exposures
from hdr_keras.ops.exposure import normalize_ev, time_to_ev


def test_stops_from_times_and_files(tmp_path):
    from hdr_keras.io import read_exposure_times

    times = tmp_path / "times.txt"
    times.write_text("1/250\n1/60  # middle\n1/15\n")
    stops = exposures.stops_from_times(read_exposure_times(times))
    np.testing.assert_allclose(
        stops, np.log2(np.array([1, 250 / 60, 250 / 15])), rtol=1e-6
    )
    assert stops[0] == 0
    np.testing.assert_allclose(exposures.relative_stops([2, 0, 4]), [2, 0, 4])
    np.testing.assert_allclose(exposures.relative_stops([-2, 0, 2]), [0, 2, 4])
    with pytest.raises(ValueError):
        exposures.stops_from_times([0.0, 1.0])


def test_stops_rule_is_the_same_for_arrays_and_tensors():
    """relative_stops (numpy) and normalize_ev (tensors) share the reference: the
    shortest exposure, also for a bracket given out of order."""
    times = [1 / 15, 1 / 250, 1 / 60]
    stops = exposures.stops_from_times(times)
    np.testing.assert_allclose(stops, [np.log2(250 / 15), 0.0, np.log2(250 / 60)])
    # The tensor path takes float32 log2 of times in [2**-8, 2**-3]: each log2 is
    # rounded to within a few ulps of 8 (float32 spacing 8 * eps there) before the
    # difference; allow 8 such ulps.
    atol = 8 * (8 * np.finfo(np.float32).eps)
    np.testing.assert_allclose(
        np.asarray(normalize_ev(time_to_ev(times))), stops, atol=atol
    )
    np.testing.assert_array_equal(
        np.asarray(normalize_ev([2.0, -1.0, 0.5])),
        exposures.relative_stops([2, -1, 0.5]),
    )


def test_read_stops_sources_and_count_check(tmp_path):
    stops_file = tmp_path / "stops.txt"
    stops_file.write_text("1\n3\n5\n")
    paths = ["a.png", "b.png", "c.png"]
    np.testing.assert_allclose(exposures.read_stops(paths, str(stops_file)), [0, 2, 4])
    with pytest.raises(ValueError, match="2 images but 3 exposure values"):
        exposures.read_stops(paths[:2], str(stops_file))
    with pytest.raises(ValueError, match="only one of"):
        exposures.read_stops(paths, str(stops_file), str(stops_file))
