"""Writes a Keras model as a versioned, TF-Serving-loadable SavedModel.

The library half of export (`training.main --export` and `serving.export` both use
it); `serving.export` adds the model repository (models.config) and the CLI.

Layout written: `<base_path>/<version:int>/saved_model.pb` + `variables/`, with the
signatures of `hdr_keras.export.signatures` (`serving_default` on float tensors,
`serving_bytes` on encoded PNG/JPEG), outputs named `hdr` and `tonemapped`, and
the metadata asset `assets.extra/hdr_keras.json` (method, input kind, output kind,
stride, hdr-keras version, and the XLA decision: `hdr_keras.inference.metadata`)
that loaders read.

`jit_compile` ("off", "on", "auto"; `hdr_keras.export.xla`) says whether the
serving functions run the model through XLA; "auto" measures both on this machine
first and keeps the faster.

Exports are atomic: the SavedModel is written to a hidden sibling directory
(`<base_path>/.tmp-<version>-<pid>-<random>`, ignored by TF Serving because its name
is not an integer) and renamed to `<base_path>/<version>` only once complete. On any
failure the temporary directory is removed and the error re-raised. An existing
version folder is never overwritten or modified.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import secrets
import shutil
from pathlib import Path

import keras

import hdr_keras  # noqa: F401  (registers the package's custom Keras objects)
from hdr_keras.inference.backends import STACK_INPUTS
from hdr_keras.inference.metadata import metadata_for, write_metadata
from hdr_keras.inference.versions import list_versions
from hdr_keras.registry import list_methods
from hdr_keras.spec import SINGLE, STACK
from hdr_keras.export import xla
from hdr_keras.export.signatures import serving_functions

INPUT_KINDS = (SINGLE, STACK)

logger = logging.getLogger(__name__)


def next_version(base_path: str | Path) -> int:
    """One more than the largest existing integer version folder (1 when none)."""
    return max(list_versions(base_path, complete=False), default=0) + 1


def build_archive(
    model: keras.Model, input_kind: str, jit_compile: bool = False
) -> keras.export.ExportArchive:
    """An ExportArchive tracking `model` with the serving endpoints of `input_kind`
    (`jit_compile`: the model runs through XLA inside them)."""
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {input_kind!r}")
    if input_kind == STACK:
        _check_stack_inputs(model)
    archive = keras.export.ExportArchive()
    archive.track(model)
    endpoints = serving_functions(model, input_kind, jit_compile=jit_compile)
    for name, (fn, input_signature) in endpoints.items():
        archive.add_endpoint(name, fn, input_signature=input_signature)
    return archive


def _check_stack_inputs(model: keras.Model) -> None:
    """A functional stack model must take a dict with inputs "ldr" and "exposure"."""
    inputs = getattr(model, "_inputs_struct", None)  # None: not a functional model
    if inputs is None or (isinstance(inputs, dict) and set(inputs) == STACK_INPUTS):
        return
    got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
    raise ValueError(
        f"a stack model must take a dict of inputs named 'ldr' and 'exposure', got {got}"
    )


def _resolve_version(base: Path, version: int | None) -> int:
    if version is None:
        return next_version(base)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive integer, got {version!r}")
    taken = list_versions(base, complete=False)
    if version in taken or (base / str(version)).exists():
        where = taken.get(version, base / str(version))
        raise FileExistsError(
            f"version {version} already exists at {where}; refusing to overwrite it "
            "(pass another version, or None for the next free one)"
        )
    return version


def export_model(
    model: keras.Model,
    base_path: str | Path,
    input_kind: str,
    version: int | None = None,
    method: str | None = None,
    jit_compile: str = "off",
    jit_measure: dict | None = None,
) -> Path:
    """Exports `model` to `base_path/<version>/` and returns that path.

    Args:
        model: built Keras model whose output is linear HDR [B, H, W, 3]. A "single"
            model is called as `model(ldr)`; a "stack" model as
            `model({"ldr": ldr, "exposure": exposure})`.
        base_path: the model's folder in a TF Serving model repository.
        input_kind: "single" (one LDR image) or "stack" (multi-exposure stack).
        version: integer version folder; None picks the next free one. An existing
            version raises FileExistsError and is left untouched.
        method: the registered method the model implements, written into the
            metadata asset with its stride and output kind; None: `model.name`
            when it names a registered method (every builder names its model so),
            else no method.
        jit_compile: "off" (plain graph, no XLA anywhere: layers that run XLA
            programs of their own, such as Kalantari's optical flow, run op by op
            in this export), "on" (the model runs through XLA; a
            ValueError naming the method and layer when it cannot) or "auto"
            (plain and XLA timed on this machine at 256x384 and 1000x1500, the
            faster kept when the outputs agree within 1e-5): `hdr_keras.export.xla`.
            The decision and figures go into the metadata asset ("jit_compile",
            with "xla_in_graph": whether a server needs XLA:CPU JIT, e.g.
            tensorflow_model_server --xla_cpu_compilation_enabled=true).
        jit_measure: options of `hdr_keras.export.xla.measure` for "auto"
            (sizes, warmup, runs, budget_s), e.g. small sizes in tests.

    Signatures (see `hdr_keras.export.signatures`): `serving_default` and `serving_bytes`, each
    returning {"hdr", "tonemapped"} and validating inputs at run time
    (INVALID_ARGUMENT with a readable message).
    """
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {input_kind!r}")
    base = Path(base_path)
    base.mkdir(parents=True, exist_ok=True)
    xla.check_mode(jit_compile)
    metadata = metadata_for(input_kind, method or _registered_name(model))
    _resolve_version(base, version)  # fails early, before any measurement
    decision = xla.decide(
        model, input_kind, jit_compile, metadata.method, **(jit_measure or {})
    )
    # "off": no XLA anywhere in the graph (stock TF Serving runs it), so layers
    # with XLA programs of their own run op by op in this export
    plain = contextlib.nullcontext() if jit_compile != "off" else xla.without_internal_xla(model)
    decision["xla_in_graph"] = bool(
        decision["compiled"] or (jit_compile != "off" and xla.internal_xla_layers(model))
    )
    metadata = dataclasses.replace(metadata, jit_compile=decision)
    version = _resolve_version(base, version)
    final = base / str(version)
    tmp = base / f".tmp-{version}-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        with plain:
            archive = build_archive(model, input_kind, jit_compile=decision["compiled"])
            archive.write_out(str(tmp), verbose=False)
        write_metadata(tmp, metadata)
        if final.exists():  # another writer won the race since _resolve_version
            raise FileExistsError(f"version folder {final} appeared during export")
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info(
        "exported %s model %s to %s (%s)",
        input_kind,
        model.name,
        final,
        "served through XLA"
        if decision["compiled"]
        else ("XLA inside layers" if decision["xla_in_graph"] else "no XLA"),
    )
    return final


def export_from_keras_file(
    keras_path: str | Path,
    base_path: str | Path,
    input_kind: str,
    version: int | None = None,
    method: str | None = None,
    jit_compile: str = "off",
) -> Path:
    """Loads a `.keras` file (without its training config) and exports it."""
    model = keras.saving.load_model(keras_path, compile=False)
    return export_model(
        model,
        base_path,
        input_kind,
        version=version,
        method=method,
        jit_compile=jit_compile,
    )


def _registered_name(model: keras.Model) -> str | None:
    """`model.name` when it is a registered method (`hdr_keras.finetune.method_of`)."""
    return model.name if model.name in list_methods() else None
