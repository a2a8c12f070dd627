"""Stages, fit segments, stage weights and the epoch history of a training run.

A staged method (e.g. SingleHDR's deq -> lin -> hal -> ref -> joint, Kalantari WIE,
HDRCNN's pretrain -> finetune) trains (parts of) one model in turn; each finished
stage leaves its inference weights in `<model_dir>/stages/<stage>.weights.h5`, from
which the next stage starts. Which data, sizes and camera each stage reads:
`training.stage_data`.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from hdr_keras.errors import UserError

STAGE_WEIGHTS = "stages/{}.weights.h5"  # inference weights after each stage


def fit_segments(step: int, total: int, per_epoch: int):
    """(first epoch, epochs, steps per epoch) fit calls from `step` to `total`.

    One call covers all whole epochs (so the data stream runs on across them); a
    run resumed mid-epoch first finishes that epoch, and a total that is not a
    multiple of `per_epoch` ends with a shorter epoch.
    """
    if step < total and step % per_epoch:
        count = min(per_epoch - step % per_epoch, total - step)
        yield step // per_epoch, 1, count
        step += count
    whole = (total - step) // per_epoch
    if whole:
        yield step // per_epoch, whole, per_epoch
        step += whole * per_epoch
    if step < total:
        yield step // per_epoch, 1, total - step


def select(config, method: str, only: str | None, steps: int, schedule_steps: int):
    """[(stage, steps)] to run: [(None, steps)] for single-stage methods.

    Args:
        config: the method's training configuration (its `stages`).
        only: --stage, or None for every stage in order.
        steps: the run's total steps (shared between stages by their weights).
        schedule_steps: the schedule's steps, used when --stage is given without
            --steps (the stage then runs its share of the full schedule); None
            when --steps was given.
    """
    if not config.stages:
        if only:
            raise UserError(f"--stage: method {method!r} has a single stage")
        return [(None, steps)]
    names = [stage.name for stage in config.stages]
    if only is None:
        shares = config.stage_steps(steps)
        return [(stage, shares[stage.name]) for stage in config.stages]
    if only not in names:
        raise UserError(
            f"--stage={only}: method {method!r} has stages {', '.join(names)}"
        )
    stage = config.stages[names.index(only)]
    if schedule_steps is not None:
        steps = config.stage_steps(schedule_steps)[only]
    return [(stage, steps)]


def set_trainable_parts(method: str, model, parts: tuple[str, ...], frozen) -> None:
    """Makes only `parts` trainable (all when empty), then freezes `frozen` (--freeze).

    The model is recompiled by each stage, so the finetune module's "compiled
    model" warning does not apply here.
    """
    import hdr_keras

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*call model.compile.. again")
        hdr_keras.unfreeze(model, method=method)
        if parts:
            model.trainable = False
            hdr_keras.unfreeze(model, parts, method=method)
        if frozen:
            hdr_keras.freeze(model, frozen, method=method)


def record_epoch(out_dir: Path, stage, epoch: int, loss: float, steps: int) -> None:
    """Writes one epoch's mean training loss into <model_dir>/history.json.

    Entries are keyed by (stage, epoch): an epoch trained again after a resume
    replaces its entry, so no epoch is counted twice. `steps`: the steps the mean
    covers (fewer than the epoch's when the run resumed within it). The file is
    replaced atomically (a kill leaves the old or the new one).
    """
    path = out_dir / "history.json"
    entries = json.loads(path.read_text()) if path.is_file() else []
    name = None if stage is None else stage.name
    entries = [e for e in entries if (e["stage"], e["epoch"]) != (name, epoch)]
    entries.append(
        {"stage": name, "epoch": int(epoch), "loss": float(loss), "steps": int(steps)}
    )
    partial = path.with_name(f".partial-{path.name}")
    partial.write_text(json.dumps(entries, indent=1) + "\n")
    os.replace(partial, path)


def save_stage_weights(stage, model, out_dir: Path) -> None:
    """Writes the weights a finished stage leaves (atomically) for later stages."""
    path = out_dir / STAGE_WEIGHTS.format(stage.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".partial-{path.name}")
    model.save_weights(partial)
    os.replace(partial, path)


def restore_earlier_stage(config, stage, model, out_dir: Path) -> None:
    """Starts `stage` from the weights of the newest finished stage before it."""
    names = [s.name for s in config.stages]
    for earlier in reversed(names[: names.index(stage.name)]):
        path = out_dir / STAGE_WEIGHTS.format(earlier)
        if path.is_file():
            model.load_weights(path)
            print(f"stage {stage.name!r} starts from stage {earlier!r} ({path})")
            return
    if names.index(stage.name):
        print(
            f"stage {stage.name!r}: no weights of an earlier stage in {out_dir}; it "
            "starts from the model as built (or --init_from)"
        )
