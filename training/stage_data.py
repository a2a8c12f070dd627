"""Which data, sizes and virtual camera each stage of a run reads, and where its
weights start (recorded in config.json).

A stage reads the run's training data (`Stage.data` RUN_DATA) or the pre-training
records of LDR photos (PRETRAIN_DATA: --pretrain_data; --data when --stage names it
alone; else the built-in LDR renderings on the quick schedule), with its own
learning rate, paper-schedule batch and patch size, virtual camera and crop
(`hdr_keras.spec.Stage`). A full run drops a PRETRAIN_DATA stage that has no data,
so HDRCNN trained with --data only is the single-stage run it always was.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from hdr_keras.errors import UserError
from hdr_keras.spec import PRETRAIN_DATA
from training import data
from training.stages import STAGE_WEIGHTS


def available_stages(config, cfg, using_builtin: bool):
    """`config` with the stages a full run (no --stage) can run.

    A PRETRAIN_DATA stage runs when --pretrain_data is given, or on the quick
    schedule (built-in data) when its `builtin_data` says so; otherwise it is
    dropped and the other stages share the run's steps. With --stage the config is
    returned whole. --pretrain_data without such a stage is an error.
    """
    pretraining = [s.name for s in config.stages if s.data == PRETRAIN_DATA]
    if cfg.pretrain_data and not pretraining:
        raise UserError(
            f"--pretrain_data: method {cfg.method!r} has no pre-training stage"
        )
    if cfg.stage is not None:
        if cfg.pretrain_data and cfg.stage not in pretraining:
            raise UserError(
                f"--pretrain_data applies to stage {', '.join(pretraining)}, not "
                f"--stage={cfg.stage} (which reads --data)"
            )
        if cfg.pretrain_data and cfg.data and cfg.stage in pretraining:
            raise UserError(
                f"--stage={cfg.stage} reads one data set: give --data or "
                "--pretrain_data, not both"
            )
        return config
    kept = tuple(
        stage
        for stage in config.stages
        if stage.data != PRETRAIN_DATA
        or cfg.pretrain_data
        or (using_builtin and stage.builtin_data)
    )
    return dataclasses.replace(config, stages=kept)


def stage_pattern(stage, cfg, builtin_pretrain) -> str | None:
    """The training glob of `stage`; None: the run's training data.

    `builtin_pretrain()` returns the built-in pre-training glob (written on first
    use); it is called only when a PRETRAIN_DATA stage has no data of its own.
    """
    if stage is None or stage.data != PRETRAIN_DATA:
        return None
    if cfg.pretrain_data:
        return cfg.pretrain_data
    if cfg.stage == stage.name and cfg.data:
        return cfg.data
    return builtin_pretrain()


def stage_settings(settings: dict, stage, cfg, using_builtin: bool) -> dict:
    """The run's settings with `stage`'s own learning rate and (paper schedule)
    batch and patch size; flags win over both."""
    settings = dict(settings)
    if stage is None:
        return settings
    if stage.learning_rate and cfg.learning_rate is None:
        settings["learning_rate"] = stage.learning_rate
    if not using_builtin:
        if stage.batch_size and cfg.batch_size is None:
            settings["batch_size"] = stage.batch_size
        if stage.patch_size and cfg.patch_size is None:
            settings["patch_size"] = stage.patch_size
    return settings


def starting_point(
    config, stage, cfg, checkpoint_dir: Path, out_dir: Path, earlier_in_run
) -> str:
    """Where `stage`'s weights start (for config.json): its own checkpoint when it
    resumes, an earlier stage's weights, --init_from, or the built model's
    initialisation (VGG16 file or random)."""
    if (checkpoint_dir / "checkpoint").is_file():
        return "its own latest checkpoint (resumed)"
    if earlier_in_run is not None:
        return f"stage {earlier_in_run!r} of this run"
    if stage is not None:
        names = [s.name for s in config.stages]
        for earlier in reversed(names[: names.index(stage.name)]):
            path = out_dir / STAGE_WEIGHTS.format(earlier)
            if path.is_file():
                return f"stage {earlier!r} ({path})"
    if cfg.init_from:
        return f"--init_from={cfg.init_from}"
    if cfg.vgg_weights:
        return f"built, encoder from --vgg_weights={cfg.vgg_weights}"
    return "built (random initialisation)"


def record_stages(out_dir: Path, records: dict) -> dict:
    """Merges this run's per-stage records into those an earlier run of other
    stages left in <model_dir>/config.json (a --stage=finetune run keeps the
    record of the --stage=pretrain run before it)."""
    path = out_dir / "config.json"
    earlier = {}
    if path.is_file():
        try:
            earlier = json.loads(path.read_text()).get("stage_weights", {}) or {}
        except (json.JSONDecodeError, AttributeError):
            earlier = {}
    return {**earlier, **records}


def stage_streams(
    trainer, run_stages, method_data, settings, using_builtin, strategy, out_dir
):
    """Each stage's ((train, glob), settings), and its record for config.json.

    A stage reads the run's training stream unless it has data, sizes or a
    virtual camera of its own (`Stage.data`, `batch_size`, `camera`, ...).
    """
    cfg, spec = trainer.cfg, trainer.spec
    streams, records, previous = [], {}, None
    for stage, steps in run_stages:
        own = stage_settings(settings, stage, cfg, using_builtin)
        pattern = stage_pattern(stage, cfg, data.builtin_pretrain_pattern)
        stream = (method_data.train, method_data.train_pattern)
        if stage is not None and (
            pattern is not None
            or own != settings
            or stage.camera is not None
            or stage.crop_fraction is not None
        ):
            pattern = pattern or method_data.train_pattern
            try:
                train = data.training_stream(
                    spec,
                    pattern,
                    own["batch_size"],
                    own["patch_size"],
                    cfg.seed,
                    strategy,
                    camera=stage.camera,
                    crop_fraction=stage.crop_fraction,
                )
            except ValueError as error:
                raise UserError(str(error)) from None
            stream = (train, pattern)
        streams.append((stream, own))
        if stage is not None:
            checkpoint_dir = out_dir.joinpath("checkpoints", *trainer._suffix(stage))
            records[stage.name] = {
                "weights": STAGE_WEIGHTS.format(stage.name),
                "data": stream[1],
                "steps": steps,
                **{k: own[k] for k in ("batch_size", "patch_size", "learning_rate")},
                "starts_from": starting_point(
                    trainer.plan, stage, cfg, checkpoint_dir, out_dir, previous
                ),
            }
            previous = stage.name
    return streams, records
