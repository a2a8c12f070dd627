"""HDRCNN's two-stage training: pre-training on records of LDR photos, then
fine-tuning on HDR records from the pre-trained weights (issue 17).

The end-to-end test uses real photos and HDR images of the shared data
(HDR_KERAS_TEST_DATA, see shared/data/SOURCES.md) and is skipped when they are absent.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hdr_keras
from hdr_keras.errors import UserError
from hdr_keras.spec import PRETRAIN_DATA, RUN_DATA, Stage
from tests import conftest
from training import configs, data, stage_data
from training.run_config import RunConfig

REPO = Path(__file__).resolve().parents[2]
SETTINGS = {"steps": 150, "steps_per_epoch": 30, "batch_size": 4, "patch_size": 128}
SETTINGS["learning_rate"] = 5e-5


def test_eilertsen_stages_hold_the_authors_recipe():
    config = configs.get_config("eilertsen")
    pretrain, finetune = config.stages
    assert (pretrain.name, finetune.name) == ("pretrain", "finetune")
    # training_code/README.md: --sub_im_sc1 0.5 --sub_im_sc2 0.8, --sub_im_clip1 0.7
    # --sub_im_clip2 0.9, --sub_im_min_jpg 100, 224 x 224, batch 16, lr 2e-5.
    assert pretrain.data == PRETRAIN_DATA and pretrain.crop_fraction == (0.5, 0.8)
    assert pretrain.camera.percentile_range == (0.7, 0.9)
    assert pretrain.camera.jpeg and pretrain.camera.jpeg_quality_range == (100, 100)
    assert (pretrain.batch_size, pretrain.patch_size) == (16, 224)
    assert pretrain.learning_rate == 2e-5
    # Fine-tuning: the paper's settings (the config's), from the pre-trained weights.
    assert finetune.data == RUN_DATA and finetune.camera is None
    assert finetune.learning_rate is None and config.learning_rate == 5e-5
    assert (config.paper.batch_size, config.paper.patch_size) == (4, 320)


def _cfg(**kwargs) -> RunConfig:
    return RunConfig(method="eilertsen", **kwargs)


def _names(config) -> list[str]:
    return [stage.name for stage in config.stages]


def test_which_stages_a_run_has():
    config = configs.get_config("eilertsen")
    builtin = config.stages[0].builtin_data
    # --data only: fine-tuning alone (the pre-training stage has no data).
    assert _names(stage_data.available_stages(config, _cfg(data="d"), False)) == [
        "finetune"
    ]
    both = _cfg(data="d", pretrain_data="p")
    assert _names(stage_data.available_stages(config, both, False)) == [
        "pretrain",
        "finetune",
    ]
    quick = stage_data.available_stages(config, _cfg(), True)
    assert _names(quick) == (["pretrain"] if builtin else []) + ["finetune"]
    # --stage keeps every stage (the hand-over looks for the earlier ones).
    alone = _cfg(stage="finetune", data="d")
    assert stage_data.available_stages(config, alone, False) is config


def test_pretrain_data_errors_name_the_flag():
    config = configs.get_config("eilertsen")
    with pytest.raises(UserError, match="--pretrain_data.*'ahdrnet' has no pre"):
        stage_data.available_stages(
            configs.get_config("ahdrnet"),
            RunConfig(method="ahdrnet", pretrain_data="p"),
            True,
        )
    with pytest.raises(UserError, match="not --stage=finetune"):
        stage_data.available_stages(
            config, _cfg(stage="finetune", pretrain_data="p"), True
        )
    with pytest.raises(UserError, match="--data or --pretrain_data, not both"):
        stage_data.available_stages(
            config, _cfg(stage="pretrain", pretrain_data="p", data="d"), False
        )


def test_stage_data_and_settings():
    pretrain, finetune = configs.get_config("eilertsen").stages

    def builtin():
        return "builtin-renderings"

    assert stage_data.stage_pattern(finetune, _cfg(data="d"), builtin) is None
    assert stage_data.stage_pattern(pretrain, _cfg(pretrain_data="p"), builtin) == "p"
    alone = _cfg(stage="pretrain", data="photos")
    assert stage_data.stage_pattern(pretrain, alone, builtin) == "photos"
    assert stage_data.stage_pattern(pretrain, _cfg(), builtin) == "builtin-renderings"

    paper = stage_data.stage_settings(SETTINGS, pretrain, _cfg(data="d"), False)
    assert (paper["batch_size"], paper["patch_size"]) == (16, 224)
    assert paper["learning_rate"] == 2e-5
    quick = stage_data.stage_settings(SETTINGS, pretrain, _cfg(), True)
    assert (quick["batch_size"], quick["patch_size"]) == (4, 128)  # quick sizes
    # Flags (already in the run's settings: trainer.resolve_settings) win.
    flagged = _cfg(data="d", batch_size=2, learning_rate=1e-3)
    resolved = dict(SETTINGS, batch_size=2, learning_rate=1e-3)
    paper = stage_data.stage_settings(resolved, pretrain, flagged, False)
    assert (paper["batch_size"], paper["learning_rate"]) == (2, 1e-3)
    assert stage_data.stage_settings(SETTINGS, finetune, _cfg(data="d"), False) == (
        SETTINGS
    )


def test_stage_fields_are_checked():
    loss = configs.get_config("eilertsen").loss
    with pytest.raises(ValueError, match="stage 'x': data must be one of"):
        Stage("x", loss, data="photos")
    with pytest.raises(ValueError, match="stage 'x': crop_fraction"):
        Stage("x", loss, crop_fraction=(0.8, 0.5))
    camera = configs.get_config("eilertsen").stages[0].camera
    with pytest.raises(ValueError, match="'ahdrnet'.*\"hdr\" records only"):
        data.training_stream(
            hdr_keras.get_method("ahdrnet"), "unused", 2, 32, 0, camera=camera
        )


# ------------------------------------------------------------ end to end on photos
MEMORIAL = ("memorial0066.png", "memorial0068.png", "memorial0070.png")
FROBISHER = ("IMG_2600.jpg", "IMG_2602.jpg")  # 4.7 % and 33 % saturated
HDR_CROPS = ("0001.exr", "0002.exr")  # fine-tuning; 0003.exr is held out


def _links(folder: Path, files: list[Path]) -> Path:
    for path in files:
        link = folder / path.parent.name / path.name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path)
    return folder


def _make(*flags: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "tfrecords.make", *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _real_files() -> dict[str, list[Path]]:
    root = conftest.test_data_dir()
    files = {
        "photos": [root / "memorial_church_debevec" / n for n in MEMORIAL]
        + [root / "colour_hdri_tests" / "frobisher_001" / n for n in FROBISHER],
        "hdr": [root / "marcelsan_sihdr_crops" / "crops" / n for n in HDR_CROPS],
        "eval": [root / "marcelsan_sihdr_crops" / "crops" / "0003.exr"],
    }
    missing = [str(p) for group in files.values() for p in group if not p.is_file()]
    if missing:
        pytest.skip(
            f"real photos / HDR crops absent (HDR_KERAS_TEST_DATA={root}; see "
            f"shared/data/SOURCES.md): {', '.join(missing)}"
        )
    return files


def _encoder(model) -> dict[str, np.ndarray]:
    return {
        w.path: np.array(w)
        for layer in model.layers
        if layer.name.startswith("block")
        for w in layer.weights
    }


@pytest.mark.slow
def test_pretrain_on_photos_then_finetune_on_hdr(tmp_path, run_training, random_vgg16):
    files = _real_files()
    records = tmp_path / "records"
    made = _make(
        "--source=ldr_folder",
        f"--input={_links(tmp_path / 'photos', files['photos'])}",
        f"--out={records / 'photos'}",
        "--num_shards=1",
        "--max_saturated=0.05",
        "--max_side=128",
        "--min_side=256",
    )
    assert "4 photos written; skipped: 0 unreadable, 0 too small, 1 too sat" in (
        made.stdout
    )
    for split in ("hdr", "eval"):
        _make(
            "--source=hdr_folder",
            f"--input={_links(tmp_path / split, files[split])}",
            f"--out={records / split}",
            "--num_shards=1",
            "--max_side=96",
        )
    vgg_path, _ = random_vgg16
    model_dir = tmp_path / "run"
    common = (
        "--method=eilertsen",
        f"--model_dir={model_dir}",
        f"--eval_data={records / 'eval'}",
        f"--vgg_weights={vgg_path}",
        "--steps=2",
        "--steps_per_epoch=2",
        "--batch_size=2",
        "--patch_size=32",
        "--export=false",
    )
    pretrained = run_training(
        *common, "--stage=pretrain", f"--data={records / 'photos'}"
    )
    assert pretrained.returncode == 0, pretrained.stdout + pretrained.stderr
    assert f"stage 'pretrain': 2 steps on {records / 'photos'}" in pretrained.stdout
    # The fine-tuning run freezes the encoder, so its encoder at the end is the one it
    # started from; it starts another seed, so only the hand-over can make it match.
    tuned = run_training(
        *common,
        "--stage=finetune",
        f"--data={records / 'hdr'}",
        "--freeze=encoder",
        "--seed=1",
    )
    assert tuned.returncode == 0, tuned.stdout + tuned.stderr
    weights = model_dir / "stages" / "pretrain.weights.h5"
    assert f"stage 'finetune' starts from stage 'pretrain' ({weights})" in tuned.stdout

    after_pretrain = hdr_keras.build_model("eilertsen")
    after_pretrain.load_weights(weights)
    vgg_init = hdr_keras.build_model("eilertsen", vgg_weights=str(vgg_path))
    final = hdr_keras.load_model(model_dir)
    pretrained_encoder, initial = _encoder(after_pretrain), _encoder(vgg_init)
    assert len(pretrained_encoder) == 26  # VGG16: 13 convolutions, kernel + bias
    # Pre-training moved the encoder away from its VGG16 initialisation...
    assert any(not np.array_equal(v, initial[k]) for k, v in pretrained_encoder.items())
    # ...and fine-tuning started from exactly those weights.
    for name, value in _encoder(final).items():
        np.testing.assert_array_equal(value, pretrained_encoder[name], err_msg=name)
    decoder = [w for w in final.weights if "decoder" in w.path]
    before = {w.path: np.array(w) for w in after_pretrain.weights}
    assert any(not np.array_equal(np.array(w), before[w.path]) for w in decoder)

    # config.json: which stage and data each weight came from, across both runs.
    config = json.loads((model_dir / "config.json").read_text())
    stages = config["stage_weights"]
    assert stages["pretrain"]["data"] == str(records / "photos")
    assert stages["pretrain"]["starts_from"].startswith("built, encoder from")
    assert stages["finetune"]["data"] == str(records / "hdr")
    assert stages["finetune"]["starts_from"] == f"stage 'pretrain' ({weights})"
    assert config["final_weights_from_stage"] == "finetune"


@pytest.mark.slow
def test_full_run_pretrains_then_finetunes(tmp_path, run_training, tiny_data):
    """No --stage, both --pretrain_data and --data: the stages in order, the steps
    shared 1 : 4, pre-training on its own data with its own learning rate."""
    model_dir = tmp_path / "run"
    result = run_training(
        "--method=eilertsen",
        f"--model_dir={model_dir}",
        f"--pretrain_data={tiny_data}/eval-*.tfrecord",
        f"--data={tiny_data}/train-*.tfrecord",
        f"--eval_data={tiny_data}/eval-*.tfrecord",
        "--steps=5",
        "--steps_per_epoch=5",
        "--batch_size=2",
        "--patch_size=32",
        "--export=false",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    first = out.index(f"stage 'pretrain': 1 steps on {tiny_data}/eval-*")
    assert first < out.index(f"stage 'finetune': 4 steps on {tiny_data}/train-*")
    config = json.loads((model_dir / "config.json").read_text())
    assert config["stage_weights"]["pretrain"]["learning_rate"] == 2e-5
    assert config["stage_weights"]["finetune"]["learning_rate"] == 5e-5
    assert config["stage_weights"]["finetune"]["starts_from"] == (
        "stage 'pretrain' of this run"
    )
    history = json.loads((model_dir / "history.json").read_text())
    assert [entry["stage"] for entry in history] == ["pretrain", "finetune"]
    assert (model_dir / "previews" / "pretrain").is_dir()


def test_stage_dataclass_defaults_keep_other_methods_unchanged():
    """Stages of other methods read the run's data with the default camera."""
    for name in ("liu", "kalantari_wie"):
        for stage in configs.get_config(name).stages:
            defaults = {
                f.name: getattr(stage, f.name)
                for f in dataclasses.fields(stage)
                if f.name in ("data", "camera", "crop_fraction", "batch_size")
            }
            assert defaults == {
                "data": RUN_DATA,
                "camera": None,
                "crop_fraction": None,
                "batch_size": None,
            }
