"""Tests of training.evaluate (scoring, data sources, the CLI) and training.eval_data."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import hdr_keras
from hdr_keras.constants import PSNR_CAP_DB
from hdr_keras.io import read_image, write_image
from hdr_keras.metrics import align_exposure, psnr_l, pu21_psnr
from hdr_keras.synthetic.stacks import generate_stack
from hdr_keras.errors import EXIT_USER_ERROR
from training import evaluate, evaluation
from training.eval_data import detect_format, find_pairs, load_eval_data

REPO = Path(__file__).resolve().parents[2]
ALL = evaluation.ALL_METRICS


def _hdr(shape=(1, 24, 28, 3), seed=0):
    rng = np.random.default_rng(seed)
    return (10.0 ** rng.uniform(-2.0, 1.0, shape)).astype("float32")


# ------------------------------------------------------------------------ scoring
def test_default_settings_keep_training_mains_three_metrics():
    assert evaluation.ScoreSettings().metrics == ("psnr_mu", "psnr_l", "ssim_mu")
    reference = _hdr()
    scores = evaluation.score(reference, reference, normalize=True)
    assert scores == {"psnr_mu": PSNR_CAP_DB, "psnr_l": PSNR_CAP_DB, "ssim_mu": 1.0}


def test_score_known_values_normalisation_and_pu21_mapping():
    reference = _hdr()
    prediction = reference * 1.25
    settings = evaluation.ScoreSettings(metrics=ALL)
    scores = evaluation.score(reference, prediction, True, settings)
    peak = reference.max()
    expected_l = float(psnr_l(reference / peak, prediction / peak)[0])
    assert scores["psnr_l"] == pytest.approx(expected_l, abs=1e-4)
    factor = 4000.0 / peak
    expected_pu = float(pu21_psnr(reference * factor, prediction * factor)[0])
    assert scores["pu21_psnr"] == pytest.approx(expected_pu, abs=1e-4)
    # PU21 scores depend only on the relative image (reference peak -> 4000 cd/m^2)
    scaled = evaluation.score(reference * 37.0, prediction * 37.0, True, settings)
    for name in ALL:
        assert scaled[name] == pytest.approx(scores[name], abs=2e-3)
    # ... and on --peak_luminance
    dim = evaluation.score(
        reference, prediction, True, dataclasses.replace(settings, peak_luminance=100.0)
    )
    assert dim["pu21_psnr"] != pytest.approx(scores["pu21_psnr"], abs=0.1)
    assert dim["psnr_l"] == scores["psnr_l"]


def test_exposure_alignment_and_border_crop():
    reference = _hdr(seed=1)
    settings = evaluation.ScoreSettings(metrics=ALL, align_exposure="log")
    # a prediction at the wrong exposure is perfect once aligned
    aligned = evaluation.score(reference, reference / 8.0, True, settings)
    assert aligned["psnr_l"] == PSNR_CAP_DB and aligned["pu21_psnr"] == PSNR_CAP_DB
    assert aligned["ssim_l"] == pytest.approx(1.0, abs=1e-5)
    raw = evaluation.score(reference, reference / 8.0, True, evaluation.ScoreSettings(ALL))
    assert raw["psnr_l"] < 30.0
    # wrong only in a 3-pixel border: perfect with --crop_border=3
    prediction = reference.copy()
    prediction[:, :3] = 0.0
    prediction[:, :, -3:] *= 5.0
    cropped = evaluation.score(
        reference, prediction, True, evaluation.ScoreSettings(ALL, crop_border=3)
    )
    assert cropped["psnr_mu"] == PSNR_CAP_DB and cropped["pu21_ssim"] == pytest.approx(
        1.0
    )
    full = evaluation.score(reference, prediction, True, evaluation.ScoreSettings(ALL))
    assert full["psnr_mu"] < 40.0


def test_score_errors_name_the_flags():
    reference = _hdr((1, 30, 40, 3))
    with pytest.raises(ValueError, match=r"--crop_border=10 leaves 10x20 .* 11x11"):
        evaluation.score(
            reference, reference, True, evaluation.ScoreSettings(crop_border=10)
        )
    psnr_only = evaluation.ScoreSettings(metrics=("psnr_l",), crop_border=10)
    assert evaluation.score(reference, reference, True, psnr_only)["psnr_l"] == 100.0
    with pytest.raises(ValueError, match="differs from the reference"):
        evaluation.score(reference, reference[:, :20], True)
    for kwargs, flag in (
        ({"metrics": ("psnr", "ssim_l")}, "--metrics: unknown metric.*psnr;"),
        ({"crop_border": -1}, "--crop_border"),
        ({"align_exposure": "median"}, "--align_exposure"),
        ({"peak_luminance": 0.0}, "--peak_luminance"),
        ({"pu21_variant": "glare"}, "--pu21_variant"),
    ):
        with pytest.raises(ValueError, match=flag):
            evaluation.ScoreSettings(**kwargs)


def test_evaluate_uses_the_input_to_align_and_writes_csv(tmp_path):
    reference = _hdr((1, 16, 16, 3), seed=2)
    ldr = np.clip(reference / np.median(reference), 0.0, 1.0)
    saturated = ldr.max(axis=-1, keepdims=True) >= 0.95
    # right exposure (x4) on the valid input pixels, a guess on the saturated ones
    guess = np.where(saturated, reference * 3.0, reference / 4.0)
    examples = [(ldr, reference, b"a"), (ldr, reference, "a")]
    settings = evaluation.ScoreSettings(metrics=("psnr_l",), align_exposure="log")
    results = evaluation.evaluate(
        {"guess": lambda inputs: guess}, examples, "single", settings, progress=True
    )
    per_image = results["guess"]["per_image"]
    assert list(per_image) == ["a", "a#1"]  # duplicate names keep both rows
    aligned, scale = align_exposure(reference, guess, ldr)
    # float32 sum of n <= 16 x 16 log ratios (|log 4| < 2) plus per-pixel logs: the
    # scale errs by at most (2 n + 32) roundoffs, 3.3e-5, in any summation order; a
    # fit that ignores the mask mixes in the saturated pixels (their factor is 1/3)
    float32_roundoff = float(np.finfo(np.float32).eps) / 2
    assert float(scale[0]) == pytest.approx(4.0, rel=(2 * 256 + 32) * float32_roundoff)
    peak = reference.max()
    expected = float(psnr_l(reference / peak, np.asarray(aligned) / peak)[0])
    assert per_image["a"]["psnr_l"] == pytest.approx(expected, abs=1e-4)
    evaluation.write_csv(results, tmp_path / "out" / "s.csv")
    rows = list(csv.DictReader((tmp_path / "out" / "s.csv").open()))
    assert [r["image"] for r in rows] == ["a", "a#1"]
    assert float(rows[0]["psnr_l"]) == pytest.approx(expected, abs=1e-4)
    table = evaluation.format_table(results)
    assert "psnr_l" in table and "guess" in table
    bad = {"nan": lambda inputs: reference * np.nan}
    with pytest.raises(ValueError, match="nan: the prediction for a has NaN"):
        evaluation.evaluate(bad, examples[:1], "single")


# ------------------------------------------------------------------- data sources
def _write_pairs(folder: Path, count=2, size=(20, 24)):
    for index in range(count):
        hdr = _hdr((*size, 3), seed=10 + index)
        write_image(folder / f"img{index}.exr", hdr)
        write_image(folder / f"img{index}.png", np.clip(hdr, 0, 1) ** (1 / 2.2))


def _write_scene(folder: Path, seed: int, size=(24, 32)):
    stack = generate_stack(seed, *size, biases=[0, 2, 4])
    for index, frame in enumerate(stack["ldr"]):
        write_image(folder / f"frame{index}.tif", frame, bit_depth=16)
    (folder / "exposure.txt").write_text("0\n2\n4\n")
    write_image(folder / "HDRImg.hdr", stack["hdr"])


def test_pairs_folder_and_format_detection(tmp_path, tiny_data):
    pairs = tmp_path / "pairs"
    _write_pairs(pairs / "sub")
    assert detect_format(str(pairs)) == "pairs"
    assert [name for _, _, name in find_pairs(pairs)] == ["sub/img0", "sub/img1"]
    data = load_eval_data(str(pairs), "single")
    (ldr, hdr, name), _ = list(data.examples())
    assert data.count == 2 and name == "sub/img0"
    assert ldr.shape == hdr.shape == (1, 20, 24, 3)
    np.testing.assert_allclose(hdr[0], read_image(pairs / "sub" / "img0.exr"))
    assert detect_format(str(tiny_data)) == "tfrecord"
    assert detect_format(f"{tiny_data}/eval-*") == "tfrecord"
    _write_scene(tmp_path / "k" / "Test" / "001", seed=3)
    assert detect_format(str(tmp_path / "k")) == "kalantari"
    with pytest.raises(
        ValueError, match="holds pairs data .single input. but the model"
    ):
        load_eval_data(str(pairs), "stack")
    with pytest.raises(FileNotFoundError, match="--data: no such file"):
        detect_format(str(tmp_path / "missing"))


def test_pairs_errors_name_the_files(tmp_path):
    folder = tmp_path / "p"
    _write_pairs(folder)
    (folder / "img0.exr").unlink()
    with pytest.raises(ValueError, match="without their LDR/HDR partner.*img0.png"):
        find_pairs(folder)
    _write_pairs(folder)
    write_image(folder / "img1.hdr", _hdr((20, 24, 3)))
    with pytest.raises(ValueError, match="img1 is ambiguous: img1.exr, img1.hdr"):
        find_pairs(folder)
    (folder / "img1.hdr").unlink()
    write_image(folder / "img1.exr", _hdr((10, 24, 3)))
    data = load_eval_data(str(folder), "single", "pairs")
    with pytest.raises(
        ValueError, match=r"img1.png \(20x24\) and .*img1.exr \(10x24\)"
    ):
        list(data.examples())
    with pytest.raises(FileNotFoundError, match="no LDR/HDR pairs"):
        find_pairs(_empty(tmp_path))
    with pytest.raises(ValueError, match="--data_format must be one of"):
        load_eval_data(str(folder), "single", "csv")


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("nothing here")
    return folder


# ------------------------------------------------------------------------ the CLI
@pytest.fixture(scope="module")
def square_model(tmp_path_factory) -> Path:
    """A single-image .keras model f^-1(x) = x^2 (the inverse-curve baseline)."""
    inputs = keras.Input((None, None, 3), name="ldr")
    model = keras.Model(
        inputs, keras.layers.Multiply(name="square")([inputs, inputs]), name="square"
    )
    path = tmp_path_factory.mktemp("models") / "square.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def tiny_stack_model(tmp_path_factory) -> Path:
    """A tiny randomly initialised AHDRNet saved as a .keras file."""
    model = hdr_keras.build_model(
        "ahdrnet", features=4, growth=4, dense_layers=1, blocks=1
    )
    path = tmp_path_factory.mktemp("models") / "tiny_ahdrnet.keras"
    model.save(path)
    return path


def _run_cli(capsys, *flags):
    code = evaluate.main([*flags, "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_cli_single_image_tfrecords(tiny_data, square_model, tmp_path, capsys):
    csv_path, json_path = tmp_path / "s.csv", tmp_path / "s.json"
    code, out, err = _run_cli(
        capsys,
        f"--model={square_model}",
        f"--data={tiny_data}/eval-*.tfrecord",
        f"--csv={csv_path}",
        f"--json={json_path}",
        "--baselines",
    )
    assert code == 0, err
    assert "2 images (virtual camera) in 1 shard(s)" in out
    assert all(name in out for name in ALL)
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 4 and {r["predictor"] for r in rows} == {
        "square",
        "baseline_inverse_curve",
    }
    document = json.loads(json_path.read_text())
    assert document["settings"]["align_exposure"] == "log"
    results = document["results"]
    # the model is the inverse-curve baseline: same inputs, same scores
    for name in ALL:
        assert results["square"]["mean"][name] == pytest.approx(
            results["baseline_inverse_curve"]["mean"][name], abs=1e-5
        )
        values = [float(r[name]) for r in rows if r["predictor"] == "square"]
        assert np.mean(values) == pytest.approx(
            results["square"]["mean"][name], abs=1e-5
        )
    assert 10.0 < results["square"]["mean"]["psnr_mu"] < 100.0
    assert 0.0 < results["square"]["mean"]["pu21_ssim"] < 1.0


@pytest.mark.slow
def test_cli_stacks_from_tfrecords_and_kalantari_folders(
    tiny_stacks, tiny_stack_model, tmp_path, capsys
):
    code, out, err = _run_cli(
        capsys,
        f"--model={tiny_stack_model}",
        f"--data={tiny_stacks}/eval-*.tfrecord",
        "--metrics=psnr_mu,pu21_psnr",
        "--crop_border=2",
    )
    assert code == 0, err
    assert "2 stacks in 1 shard(s)" in out and "tiny_ahdrnet" in out
    root = tmp_path / "SIGGRAPH17"
    _write_scene(root / "Test" / "BarbequeDay", seed=4)
    _write_scene(root / "Test" / "001", seed=5, size=(20, 28))
    json_path = tmp_path / "k.json"
    model_dir = tmp_path / "runs" / "tiny"  # a training model_dir: its final.keras
    model_dir.mkdir(parents=True)
    shutil.copy(tiny_stack_model, model_dir / "final.keras")
    code, out, err = _run_cli(
        capsys,
        f"--model={model_dir}",
        f"--data={root}",
        f"--json={json_path}",
        "--baselines",
        "--max_images=1",
    )
    assert code == 0, err
    assert "2 Kalantari scenes" in out
    results = json.loads(json_path.read_text())["results"]
    assert list(results["tiny"]["per_image"]) == ["Test/001"]
    assert set(results) == {
        "tiny",
        "baseline_reference_frame",
        "baseline_triangle_merge",
    }
    # a merge of the bracket beats an untrained network (sigmoid output ~0.5)
    merge = results["baseline_triangle_merge"]["mean"]
    assert merge["psnr_mu"] > results["tiny"]["mean"]["psnr_mu"] + 3.0
    assert merge["psnr_l"] > 15.0
    assert json.loads(json_path.read_text())["settings"]["align_exposure"] == "none"


def test_cli_errors_name_the_flag(
    tiny_data, tiny_stacks, square_model, tiny_stack_model, tmp_path, capsys
):
    data = f"--data={tiny_data}/eval-*.tfrecord"
    cases = [
        ((f"--model={square_model}", data, "--crop_border=50"), "--crop_border=50"),
        ((f"--model={tmp_path / 'nope.keras'}", data), "--model: no such file"),
        ((data,), "pass --model=PATH"),
        (("--method=nonexistent", data), "--method: unknown method 'nonexistent'"),
        (
            (f"--model={square_model}", f"--data={tmp_path}/none-*.tfrecord"),
            "--data: no TFRecord shards",
        ),
        ((f"--model={square_model}", data, "--metrics=psnr"), "--metrics: unknown"),
    ]
    for flags, message in cases:
        code, _, err = _run_cli(capsys, *flags)
        assert code == EXIT_USER_ERROR and message in err, (flags, err)
    # TFRecords read as a Kalantari folder
    _, _, err = _run_cli(
        capsys,
        f"--model={tiny_stack_model}",
        f"--data={tiny_data}",
        "--data_format=kalantari",
    )
    assert "--data: no Kalantari scene folders" in err, err
    # stack records read by a single-image model: the error names the shard
    code, _, err = _run_cli(
        capsys, f"--model={square_model}", f"--data={tiny_stacks}/eval-*.tfrecord"
    )
    assert code == EXIT_USER_ERROR and "eval-00000-of-00001.tfrecord" in err, err
    assert 'expected a "hdr" example' in err


@pytest.mark.slow
def test_cli_module_refuses_a_trained_method_without_model(tiny_data):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "training.evaluate",
            "--method=eilertsen",
            f"--data={tiny_data}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == EXIT_USER_ERROR
    assert "error: --method: method eilertsen needs a trained model: pass --model" in (
        result.stderr
    )


@pytest.mark.slow
def test_cli_training_free_method(tiny_stacks, tiny_data, capsys):
    free = [
        name
        for name in hdr_keras.list_methods()
        if getattr(hdr_keras.get_method(name), "training_free", False)
    ]
    if not free:
        pytest.skip("no training-free method is registered yet")
    name = free[0]
    kind = hdr_keras.get_method(name).input_kind
    data = tiny_stacks if kind == "stack" else tiny_data
    code, out, err = _run_cli(
        capsys, f"--method={name}", f"--data={data}/eval-*.tfrecord", "--max_images=1"
    )
    assert code == 0, err
    assert name in out


@pytest.mark.slow
def test_cli_on_real_pairs(shared_data, square_model, tmp_path, capsys):
    crops = shared_data / "marcelsan_sihdr_crops" / "crops"
    csv_path = tmp_path / "real.csv"
    code, out, err = _run_cli(
        capsys,
        f"--model={square_model}",
        f"--data={crops}",
        f"--csv={csv_path}",
        "--max_images=1",
        "--metrics=psnr_mu,psnr_l,pu21_psnr,pu21_ssim",  # RGB SSIM is slow at 512^2
    )
    assert code == 0, err
    assert "7 LDR/HDR pairs" in out
    (row,) = list(csv.DictReader(csv_path.open()))
    assert row["image"] == "0001" and row["predictor"] == "square"
    # the CLI's numbers: the prediction x^2 aligned on the input's well-exposed
    # pixels, divided by the reference's peak (PSNR-L) or mapped to 4000 cd/m^2 (PU21)
    ldr = read_image(crops / "0001.png")[None]
    hdr = read_image(crops / "0001.exr")[None]
    aligned, scale = align_exposure(hdr, ldr**2, ldr)
    assert 0.0 < float(scale[0]) < np.inf
    peak = hdr.max()
    expected_l = float(psnr_l(hdr / peak, np.asarray(aligned) / peak)[0])
    factor = 4000.0 / peak
    expected_pu = float(pu21_psnr(hdr * factor, np.asarray(aligned) * factor)[0])
    assert float(row["psnr_l"]) == pytest.approx(expected_l, abs=1e-4)
    assert float(row["pu21_psnr"]) == pytest.approx(expected_pu, abs=1e-4)
    assert 10.0 < float(row["psnr_mu"]) < 60.0 and 5.0 < expected_pu < 60.0
    assert 0.0 < float(row["pu21_ssim"]) < 1.0 and "ssim_l" not in row
    # the reference itself scores perfectly through the same pipeline
    settings = evaluation.ScoreSettings(("psnr_l", "pu21_psnr"), align_exposure="log")
    perfect = evaluation.score(hdr, hdr, True, settings, ldr)
    assert perfect == {"psnr_l": PSNR_CAP_DB, "pu21_psnr": PSNR_CAP_DB}
