"""`training.evaluate --compare --report` and the shared tone mapping.

The browser test of the page is tests/training/test_report_browser.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from hdr_keras.constants import PSNR_CAP_DB
from hdr_keras.errors import EXIT_USER_ERROR
from hdr_keras.io import write_image
from hdr_keras.ops.tonemap import display_tonemap
from hdr_keras.synthetic.stacks import generate_stack
from hdr_keras.tonemapping import BAND_ROWS, Tonemap, parse_tonemap, tonemap
from training import evaluate
from training.evaluation import ALL_METRICS, ScoreSettings
from training.evaluation import evaluate as score_all
from training.report import (
    Compared,
    load_backends,
    parse_compare,
    score_example,
    shown_output,
)
from training.report_data import (
    DISPLAY_REFERENCE,
    LINEAR_REFERENCE,
    Example,
    load_report_data,
    read_scene,
)
from training.report_images import crop_box


def _radiance(shape, seed=0):
    return np.random.default_rng(seed).gamma(0.7, 2.0, shape).astype(np.float32)


# ------------------------------------------------------------------ tone mapping
def test_default_tonemap_is_the_previews_and_pngs_view():
    from hdr_keras.inference import files
    from training import callbacks

    batch = _radiance((2, 20, 24, 3))  # previews: a batch on one scale (peak 16)
    assert np.array_equal(
        tonemap(batch, peak=16.0), np.asarray(display_tonemap(batch, 16.0))
    )
    image = _radiance((BAND_ROWS + 37, 30, 3), seed=1)  # the PNG: several bands
    expected = np.asarray(display_tonemap(image))  # the whole image's peak
    assert np.array_equal(tonemap(image), expected)
    assert np.array_equal(files.tonemap_for_display(image), expected)
    assert callbacks.tonemap is tonemap  # the previews call the shared function


def test_exposure_and_reinhard_views():
    hdr = np.asarray([[[0.25, 1.0, 0.0625], [0.0, 0.5, 2.0]]], np.float32)
    view = tonemap(hdr, "exposure:1:2", peak=2.0)  # x / 2 * 2, clipped, ** (1/2)
    assert np.allclose(view, np.sqrt(np.clip(hdr, 0, 1)), atol=1e-7)
    assert parse_tonemap("exposure:-1.5") == Tonemap("exposure", -1.5)
    assert "-1.5 stops" in Tonemap("exposure", -1.5).describe()

    image = _radiance((16, 20, 3), seed=2)
    direct = cv2.createTonemapReinhard().process(
        np.ascontiguousarray(image[..., ::-1] / image.max())
    )[..., ::-1]
    assert np.allclose(tonemap(image, "reinhard"), np.clip(direct, 0, 1), atol=1e-6)
    for text, message in (
        ("drago", "unknown operator 'drago'"),
        ("mu_law:2", "only 'exposure' takes values"),
        ("exposure:bright", "must be numbers"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_tonemap(text)
    with pytest.raises(ValueError, match=r"\[\.\.\., H, W, 3\] radiance, got \(4, 3\)"):
        tonemap(np.ones((4, 3)))


# ------------------------------------------------------------- compare entries
def test_parse_compare_entries_and_errors(tmp_path):
    model = tmp_path / "tuned.keras"
    model.write_bytes(b"")
    assert parse_compare(f"debevec, mine={model},{model}") == [
        Compared("debevec", None, "debevec"),
        Compared("mine", str(model), None),
        Compared("tuned", str(model), None),
    ]
    assert parse_compare("hdr=mertens") == [Compared("hdr", None, "mertens")]
    for text, message in (
        ("debevec,nope", "'nope' is neither an existing model path"),
        ("debevec,debevec", "two entries named debevec"),
        ("input=debevec", "input names a picture"),
        (",", "no method given"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_compare(text)
    with pytest.raises(ValueError, match="different inputs"):
        load_backends(parse_compare("debevec,inverse_curve"))


def test_crop_box_is_where_the_spread_is_largest():
    spread = np.zeros((60, 80), np.float32)
    spread[10:26, 30:46] = 1.0
    spread[50:52, 0:2] = 3.0  # a brighter but smaller spot covers less of a window
    assert crop_box(spread, 16) == (30, 10, 16)
    assert crop_box(np.zeros((60, 80)), 16) == (32, 22, 16)  # no spread: the centre
    assert crop_box(spread, 500) == (0, 0, 60)  # never larger than the image


# ------------------------------------------------------------------ the report
def _links(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


@pytest.mark.slow
def test_cli_compare_writes_a_self_contained_report(tiny_stacks, tmp_path, capsys):
    import hdr_keras

    model = tmp_path / "tiny_ahdrnet.keras"  # a model file among the methods
    hdr_keras.build_model(
        "ahdrnet", features=4, growth=4, dense_layers=1, blocks=1
    ).save(model)
    data = f"{tiny_stacks}/eval-*.tfrecord"
    report = tmp_path / "report"
    code = evaluate.main(
        [
            f"--compare=debevec,mertens,tiny={model}",
            f"--data={data}",
            f"--report={report}",
            "--tonemap=exposure:1",
            "--crop_size=16",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "debevec" in out and "index.html" in out
    document = json.loads((report / "results.json").read_text())
    results = document["results"]
    # debevec scored exactly as `training.evaluate --method=debevec` scores it
    backends = load_backends(parse_compare("debevec"))
    alone = score_all(
        {
            "debevec": lambda inputs: backends["debevec"].predict(
                inputs["ldr"], inputs["exposure"]
            )
        },
        _triples(data),
        "stack",
        ScoreSettings(metrics=ALL_METRICS),  # the CLI's default metrics
    )["debevec"]
    # same inputs through the same ops (one tile = the whole image): float32 rounding
    for image, scores in alone["per_image"].items():
        assert results["debevec"]["per_image"][image] == pytest.approx(scores, rel=1e-5)
    assert results["mertens"]["mean"] == {}  # display output, linear reference
    assert set(results["tiny"]["mean"]) == set(ALL_METRICS)
    page = (report / "index.html").read_text()
    assert "exposure +1 stops" in page  # the tone mapping is stated
    table = page.split('id="results"')[1].split("</table>")[0]
    rows = re.findall(r'<tr><td class="name">([^<]+)</td>(.*?)</tr>', table)
    assert [name for name, _ in rows] == ["debevec", "mertens", "tiny"]
    best = max(("debevec", "tiny"), key=lambda n: results[n]["mean"]["psnr_mu"])
    marked = [
        n
        for n, cells in rows
        if cells.startswith('<td data-value="')
        and 'class="best"' in cells.split("</td>")[0]
    ]
    assert marked == [best]  # the best psnr_mu (first column) is marked, only it
    links = _links(page)
    assert links and not re.search(r"<link|https?:|data:", page)
    for link in links:  # every picture is a file beside the page
        assert (report / link).is_file(), link
    assert sum('loading="lazy"' in tag for tag in re.findall(r"<img[^>]*>", page)) > 0
    crop = cv2.imread(
        str(report / "images/000-synthetic-stack-000100/m-debevec-crop.png")
    )
    assert crop.shape[:2] == (16, 16)


def _triples(data: str):
    from training.eval_data import load_eval_data

    return load_eval_data(data, "stack").examples()


def _write_scene(folder: Path, seed: int, ground_truth: bool) -> np.ndarray:
    stack = generate_stack(seed, 24, 32, biases=[0, 2, 4])
    for index, frame in enumerate(stack["ldr"]):
        write_image(folder / f"frame{index}.png", frame, bit_depth=16)
    (folder / "exposure.txt").write_text("0\n2\n4\n")
    if ground_truth:  # display-referred, as Kalantari's PeopleStanding gt.png
        write_image(folder / "gt.png", tonemap(stack["hdr"], "reinhard"), bit_depth=16)
    return np.asarray(stack["hdr"], np.float32)


def test_brackets_with_a_display_referred_ground_truth(tmp_path):
    hdr = _write_scene(tmp_path / "scored", 1, True)
    _write_scene(tmp_path / "unscored", 2, False)
    source = load_report_data(str(tmp_path), "stack")
    assert source.count == 2 and "brackets" in source.description
    example = read_scene(tmp_path / "scored")
    assert example.reference_kind == DISPLAY_REFERENCE
    assert example.inputs["ldr"].shape == (1, 3, 24, 32, 3)
    settings = ScoreSettings()
    perfect = score_example(example, hdr, "linear", "stack", settings)
    # only the 16-bit rounding of gt.png differs: RMS error <= 1/65535, > 96 dB
    assert perfect["psnr_display"] > 96 and perfect["ssim_display"] > 0.999
    worse = score_example(
        example, hdr * _radiance(hdr.shape), "linear", "stack", settings
    )
    assert worse["psnr_display"] < 40
    as_is = score_example(example, example.reference[0], "display", "stack", settings)
    assert as_is["psnr_display"] == PSNR_CAP_DB  # identical images
    unscored = read_scene(tmp_path / "unscored")
    assert unscored.reference is None
    assert score_example(unscored, hdr, "linear", "stack", settings) == {}


def test_pictures_show_the_output_as_scored():
    hdr = _radiance((1, 12, 16, 3), seed=3)
    ldr = np.clip(hdr, 0, 1) * 0.5  # nothing saturated: every pixel is fitted
    example = Example(ldr, hdr, LINEAR_REFERENCE, "photo")
    half = hdr[0] / 2  # right up to the exposure, which one photo cannot fix
    log = ScoreSettings(align_exposure="log")
    assert np.allclose(shown_output(example, half, "linear", log), hdr[0], rtol=1e-5)
    none = ScoreSettings(align_exposure="none")
    assert shown_output(example, half, "linear", none) is half
    assert shown_output(example, half, "display", log) is half


def test_cli_compare_errors_name_the_flag(tmp_path, capsys):
    for flags, message in (
        (["--compare=nope", f"--report={tmp_path}"], "--compare: 'nope'"),
        (["--compare=debevec"], "--compare needs --report"),
        ([f"--report={tmp_path}", "--method=debevec"], "--report needs --compare"),
        (["--compare=debevec", "--method=debevec"], "--compare replaces --model"),
        (["--compare=debevec", f"--report={tmp_path}", "--tonemap=drago"], "drago"),
    ):
        code = evaluate.main([*flags, f"--data={tmp_path}", "--no-progress"])
        err = capsys.readouterr().err
        assert code == EXIT_USER_ERROR and message in err, (flags, err)
