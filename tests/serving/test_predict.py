"""serving.predict: files in, HDR + PNG out, every backend."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hdr_keras.errors import EXIT_USER_ERROR
from hdr_keras.io import read_image, write_image
from hdr_keras.inference.backends import saved_model_backend
from hdr_keras.inference.files import read_inputs
from serving import predict


def write_bracket(folder: Path, helpers, frames: int = 3, size=(40, 52)) -> list[str]:
    paths = []
    for index in range(frames):
        path = folder / f"frame{index}.png"
        write_image(path, helpers.random_ldr(*size, 3, seed=index))
        paths.append(str(path))
    return paths


def test_keras_file_single_image_with_tiles(tmp_path, helpers):
    model = helpers.tiny_single_model()
    model.save(tmp_path / "tiny.keras")
    source = tmp_path / "photo.png"
    ldr = helpers.random_ldr(70, 90, 3)
    write_image(source, ldr, bit_depth=16)
    output = tmp_path / "out" / "photo.exr"
    code = predict.main(
        [
            "--model",
            str(tmp_path / "tiny.keras"),
            "--inputs",
            str(source),
            "--output",
            str(output),
            "--tile",
            "32",
            "--overlap",
            "8",
        ]
    )
    assert code == 0
    hdr = read_image(output)
    expected = model(read_image(source)[None]).numpy()[0]
    np.testing.assert_allclose(hdr, expected, rtol=1e-4, atol=1e-5)
    png = read_image(output.with_suffix(".png"))
    assert png.shape == (70, 90, 3) and png.max() == pytest.approx(1.0, abs=1 / 255)


def test_saved_model_stack_with_exposure_times(repository, tmp_path, helpers):
    paths = write_bracket(tmp_path, helpers)
    times = tmp_path / "times.txt"
    times.write_text("1/100\n1/25\n4/25\n")  # 0, 2, 4 stops
    output = tmp_path / "scene.hdr"
    code = predict.main(
        [
            "--model",
            str(repository.base / "stack"),
            "--inputs",
            *paths,
            "--exposure_times_file",
            str(times),
            "--output",
            str(output),
        ]
    )
    assert code == 0
    frames = np.stack([read_image(p) for p in paths])[None]
    expected = repository.expected(
        "stack", {"ldr": frames, "exposure": np.float32([[0, 2, 4]])}
    )["hdr"][0]
    # Radiance .hdr stores 8-bit mantissas: about 1% relative precision.
    np.testing.assert_allclose(read_image(output), expected, rtol=2e-2, atol=1e-4)
    assert (tmp_path / "scene.png").is_file()


def test_server_backend_matches_local(
    repository, grpc_target, rest_url, tmp_path, helpers
):
    paths = write_bracket(tmp_path, helpers)
    stops = tmp_path / "stops.txt"
    stops.write_text("1\n3\n5\n")  # relative to the shortest: 0, 2, 4
    frames = np.stack([read_image(p) for p in paths])[None]
    expected = repository.expected(
        "stack", {"ldr": frames, "exposure": np.float32([[0, 2, 4]])}
    )["hdr"][0]
    for extra in ([f"--server={grpc_target}"], [f"--server={rest_url}", "--rest"]):
        output = tmp_path / f"remote{len(extra)}.exr"
        code = predict.main(
            [
                *extra,
                "--model_name=stack",
                "--inputs",
                *paths,
                "--exposure_file",
                str(stops),
                "--output",
                str(output),
                "--tile=32",
                "--overlap=8",
            ]
        )
        assert code == 0
        np.testing.assert_allclose(read_image(output), expected, rtol=1e-5, atol=1e-6)


def test_stack_exposures_from_exif(repository, shared_data, tmp_path):
    folder = shared_data / "colour_hdri_tests" / "frobisher_001"
    paths = []
    for path in sorted(folder.glob("IMG_26*.jpg")):
        paths.append(str(shutil.copy(path, tmp_path / path.name)))
    backend = saved_model_backend(repository.base / "stack")
    ldr, stops = read_inputs(paths, backend.input_kind)
    assert ldr.shape == (3, 426, 640, 3)
    np.testing.assert_allclose(stops, [0, 3, 6])


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["--method", "eilertsen"],
            "method eilertsen needs a trained model: pass --model",
        ),
        (["--method", "nope"], "unknown method 'nope'"),
        ([], "pass --model, --method or --server"),
        (["--server", "127.0.0.1:1"], "--server needs --model_name"),
    ],
)
def test_backend_errors(tmp_path, helpers, capsys, arguments, message):
    source = tmp_path / "photo.png"
    write_image(source, helpers.random_ldr(8, 8, 3))
    code = predict.main(
        [*arguments, "--inputs", str(source), "--output", str(tmp_path / "o.exr")]
    )
    assert code == EXIT_USER_ERROR
    assert message in capsys.readouterr().err


def test_input_errors(repository, tmp_path, helpers, capsys):
    paths = write_bracket(tmp_path, helpers, frames=2)
    times = str(tmp_path / "times.txt")
    Path(times).write_text("0.01\n0.04\n0.16\n")
    single = ["--model", str(repository.base / "single")]
    stack = ["--model", str(repository.base / "stack")]
    cases = [
        (single + ["--inputs", *paths, "--output", "x.exr"], "exactly one input image"),
        (stack + ["--inputs", paths[0], "--output", "x.exr"], "bracket of >= 2 images"),
        (
            single + ["--inputs", paths[0], "--output", str(tmp_path / "x.png")],
            ".exr or .hdr",
        ),
        (stack + ["--inputs", *paths, "--output", "x.exr"], "pass --exposure_file"),
        (
            stack
            + ["--inputs", *paths, "--output", "x.exr", "--exposure_times_file", times],
            f"2 images but 3 exposure values in --exposure_times_file={times}",
        ),
    ]
    for arguments, message in cases:
        assert predict.main(arguments) == EXIT_USER_ERROR
        assert message in capsys.readouterr().err


def test_bracket_is_sorted_by_exposure(tmp_path, helpers):
    paths = write_bracket(tmp_path, helpers)
    stops_file = tmp_path / "stops.txt"
    stops_file.write_text("4\n0\n2\n")
    ldr, stops = read_inputs(paths, "stack", exposure_file=str(stops_file))
    np.testing.assert_allclose(stops, [0, 2, 4])
    expected = np.stack([read_image(paths[i]) for i in (1, 2, 0)])
    np.testing.assert_array_equal(ldr, expected)


def test_homography_alignment_at_prediction_time(repository, tmp_path, capsys):
    from hdr_keras.ops.alignment import align_to_reference
    from hdr_keras.synthetic.scenes import generate_scene

    radiance = generate_scene(3, 96, 128)
    radiance = radiance / np.percentile(radiance, 90)
    paths = []
    for index, (stops, shift) in enumerate([(0, 4), (2, 0), (4, -3)]):
        frame = np.clip(np.roll(radiance, shift, axis=1) * 2.0**stops / 4, 0, 1) ** (
            1 / 2.2
        )
        path = tmp_path / f"f{index}.png"
        write_image(path, frame)
        paths.append(str(path))
    stops_file = tmp_path / "stops.txt"
    stops_file.write_text("0\n2\n4\n")
    output = tmp_path / "aligned.exr"
    common = ["--model", str(repository.base / "stack"), "--inputs", *paths]
    common += ["--exposure_file", str(stops_file), "--output", str(output)]
    assert predict.main(common + ["--align", "homography"]) == 0
    frames = np.stack([read_image(p) for p in paths])
    aligned, homographies, _ = align_to_reference(frames, [0, 2, 4], 1)
    assert -6.0 < homographies[0][0, 2] < -2.0  # maps frame 0 back by about 4 px
    expected = repository.expected(
        "stack", {"ldr": aligned[None], "exposure": np.float32([[0, 2, 4]])}
    )["hdr"][0]
    np.testing.assert_allclose(read_image(output), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(SystemExit):  # argparse rejects an unknown choice
        predict.main(common + ["--align", "sideways"])
    assert "invalid choice: 'sideways'" in capsys.readouterr().err


def test_constants_repeated_for_a_light_help_match_the_library():
    from hdr_keras.inference.files import ALIGN_CHOICES
    from hdr_keras.spec import SINGLE, STACK

    assert (predict.SINGLE, predict.STACK) == (SINGLE, STACK)
    assert predict.ALIGN_CHOICES == ALIGN_CHOICES


def test_training_run_folder_is_a_model(tmp_path, helpers):
    """--model=<training model_dir> predicts with its final.keras."""
    model = helpers.tiny_single_model()
    (tmp_path / "run").mkdir()
    model.save(tmp_path / "run" / "final.keras")
    source = tmp_path / "photo.png"
    write_image(source, helpers.random_ldr(20, 24, 3), bit_depth=16)
    output = tmp_path / "out" / "photo.exr"  # photo.png beside it
    code = predict.main(
        ["--model", str(tmp_path / "run"), "--inputs", str(source)]
        + ["--output", str(output)]
    )
    assert code == 0
    expected = model(read_image(source)[None]).numpy()[0]
    np.testing.assert_allclose(read_image(output), expected, rtol=1e-4, atol=1e-5)
