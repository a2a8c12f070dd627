"""`python -m serving.predict --method=NAME` for the training-free methods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hdr_keras.methods.debevec import core as debevec
from hdr_keras.methods.mertens import core as mertens
from hdr_keras.inference.files import predict_files
from hdr_keras.errors import EXIT_USER_ERROR
from hdr_keras.io import read_image, write_image
from serving import predict

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def memorial_debevec(monkeypatch):
    """`benchmarks.memorial_debevec` (the benchmarks folder is not installed)."""
    monkeypatch.syspath_prepend(str(REPO))
    import benchmarks.memorial_debevec

    return benchmarks.memorial_debevec


def write_stack(folder, stack, stops):
    paths = []
    for index, frame in enumerate(stack):
        path = folder / f"frame{index}.png"
        write_image(path, frame)
        paths.append(str(path))
    exposure_file = folder / "stops.txt"
    exposure_file.write_text("".join(f"{s}\n" for s in stops))
    return paths, exposure_file


def synthetic_bracket(stops=(0.0, 2.0, 4.0), size=(40, 52), seed=0):
    rng = np.random.default_rng(seed)
    radiance = np.exp2(rng.uniform(-7, 0, size + (3,)))
    frames = [np.clip(radiance * 2.0**s, 0, 1) ** (1 / 2.2) for s in stops]
    return np.round(np.stack(frames) * 255).astype(np.float32) / 255


@pytest.mark.slow
def test_debevec_cli_on_memorial_subset_agrees_with_debevec_and_opencv(
    shared_data, tmp_path, memorial_debevec
):
    folder = shared_data / "memorial_church_debevec"
    frames = memorial_debevec.SUBSET  # 5 of the 16 frames, 3 stops apart
    times = memorial_debevec.shutter_times(folder, frames)
    times_file = memorial_debevec.write_times(tmp_path / "times.txt", times)
    paths = memorial_debevec.frame_paths(folder, frames)
    output = tmp_path / "memorial.exr"
    status = predict.main(
        ["--method=debevec", "--inputs", *map(str, paths)]
        + [f"--exposure_times_file={times_file}", f"--output={output}"]
    )
    assert status == 0
    hdr = read_image(output)
    assert hdr.shape == (768, 512, 3) and np.all(np.isfinite(hdr)) and hdr.min() > 0
    assert read_image(output.with_suffix(".png")).shape == (768, 512, 3)

    # Measured (benchmarks/memorial_debevec.py --frames=subset): r_log_y 0.983,
    # rmse 0.47 stops, median 0.17 stops, PSNR-mu 38.3 dB against memorial.hdr;
    # r_log_y 0.997, rmse 0.17 stops against OpenCV on the same frames.
    figures = memorial_debevec.agreement(read_image(folder / "memorial.hdr"), hdr)
    assert figures["r_log_y"] > 0.975
    assert figures["rmse_stops"] < 0.55 and figures["median_stops"] < 0.22
    assert figures["psnr_mu"] > 36.0
    stack = np.stack([read_image(path) for path in paths])
    opencv = memorial_debevec.opencv_debevec(stack, times)
    versus_opencv = memorial_debevec.agreement(opencv, hdr)
    assert versus_opencv["r_log_y"] > 0.99 and versus_opencv["rmse_stops"] < 0.25


def test_debevec_is_never_tiled(tmp_path):
    stack = synthetic_bracket()
    paths, stops = write_stack(tmp_path, stack, [0, 2, 4])
    output = tmp_path / "out.exr"
    backend = predict.load_backend(method="debevec")
    assert backend.whole_image
    predict_files(backend, paths, output, exposure_file=str(stops), tile=16)
    expected = np.asarray(debevec.debevec_hdr(stack, [0.0, 2.0, 4.0]))
    np.testing.assert_allclose(read_image(output), expected, rtol=1e-3)


def test_mertens_cli_writes_the_fused_image_as_png(tmp_path):
    stack = synthetic_bracket(seed=1)
    paths, stops = write_stack(tmp_path, stack, [0, 2, 4])
    output = tmp_path / "fused.exr"
    status = predict.main(
        ["--method=mertens", "--inputs", *paths, f"--exposure_file={stops}"]
        + [f"--output={output}", "--tile=16"]
    )
    assert status == 0
    expected = np.clip(np.asarray(mertens.exposure_fusion(stack[None]))[0], 0, 1)
    np.testing.assert_allclose(read_image(output), expected, atol=1e-5)
    png = read_image(output.with_suffix(".png"))
    np.testing.assert_allclose(png, expected, atol=0.51 / 255)


def test_inverse_curve_cli_on_a_single_image(tmp_path):
    ldr = synthetic_bracket(stops=(0.0,), seed=2)[0]
    source = tmp_path / "photo.png"
    write_image(source, ldr)
    output = tmp_path / "photo.exr"
    assert (
        predict.main(
            ["--method=inverse_curve", "--inputs", str(source), f"--output={output}"]
        )
        == 0
    )
    np.testing.assert_allclose(read_image(output), ldr**2, rtol=1e-6, atol=1e-7)


def test_methods_with_weights_still_need_a_model(tmp_path, capsys):
    source = tmp_path / "photo.png"
    write_image(source, np.zeros((8, 8, 3), np.float32))
    status = predict.main(
        [
            "--method=eilertsen",
            "--inputs",
            str(source),
            f"--output={tmp_path / 'x.exr'}",
        ]
    )
    assert status == EXIT_USER_ERROR
    assert (
        "method eilertsen needs a trained model: pass --model"
        in capsys.readouterr().err
    )


@pytest.mark.slow
def test_debevec_served_over_grpc_calibrates_inside_the_server(tmp_path):
    """The exported SavedModel does the calibration itself, behind TF Serving's API."""
    import hdr_keras
    from serving.export import export_to_repository
    from serving.server.servables import model_config
    from serving.server.model_server import ModelServer

    stack = synthetic_bracket(seed=3)
    paths, stops = write_stack(tmp_path, stack, [0, 2, 4])
    base = tmp_path / "models"
    export_to_repository(hdr_keras.build_model("debevec"), base, "debevec")
    server = ModelServer(
        [model_config("debevec", base / "debevec")], port=0, rest_api_port=None
    ).start()
    try:
        output = tmp_path / "served.exr"
        status = predict.main(
            [f"--server=127.0.0.1:{server.grpc_port}", "--model_name=debevec"]
            + ["--inputs", *paths, f"--exposure_file={stops}", f"--output={output}"]
            + ["--tile=16"]  # ignored: the registry says debevec needs the whole image
        )
    finally:
        server.stop(grace=None)
    assert status == 0
    expected = np.asarray(debevec.debevec_hdr(stack, [0.0, 2.0, 4.0]))
    np.testing.assert_allclose(read_image(output), expected, rtol=1e-3)
