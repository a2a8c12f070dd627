"""TF Serving model repository files: `models.config` and `batching.config`.

Layout (DESIGN.md, serving contract)::

    <base>/<model name>/<version:int>/saved_model.pb + variables/
    <base>/models.config      model_config_list text proto, one entry per model
    <base>/batching.config    BatchingParameters text proto (--batching_parameters_file)

`models.config` is written with the official `ModelServerConfig` proto of
tensorflow-serving-api. The `BatchingParameters` proto is not shipped in that
package, so its message class is built here from a descriptor mirroring
`tensorflow_serving/servables/tensorflow/session_bundle_config.proto` (fields with
`google.protobuf.Int64Value` wrappers); both files are therefore valid text protos
for tensorflow_model_server. Files are replaced atomically.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterable

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf import text_format, wrappers_pb2
from tensorflow_serving.config import model_server_config_pb2

from hdr_keras.inference.versions import list_versions

MODELS_CONFIG = "models.config"
BATCHING_CONFIG = "batching.config"

# HDR images are large (a 512x512 tile is 3 MiB in, 6 MiB out, and the networks
# hold hundreds of MiB of activations per image on CPU), so batches stay small; a
# short timeout merges requests that arrive together (e.g. the tiles of one image).
# Batching concatenates along the batch axis: only equally sized images merge, which
# `serving.predict`'s fixed tile size provides.
DEFAULT_BATCHING = {
    "max_batch_size": 4,
    "batch_timeout_micros": 2000,
    "max_enqueued_batches": 64,
    "num_batch_threads": max(1, os.cpu_count() or 1),
    "pad_variable_length_inputs": False,
}
_BATCHING_INT_FIELDS = (
    "max_batch_size",
    "batch_timeout_micros",
    "max_enqueued_batches",
    "num_batch_threads",
)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def has_versions(model_dir: Path) -> bool:
    """True when `model_dir` holds an integer version folder with a SavedModel."""
    return bool(list_versions(model_dir))


def list_models(base: str | Path) -> list[str]:
    """Names of the model folders under `base` that hold at least one version."""
    base = Path(base)
    if not base.is_dir():
        return []
    return sorted(
        child.name
        for child in base.iterdir()
        if not child.name.startswith(".") and has_versions(child)
    )


def model_server_config(
    models: Iterable[tuple[str, str]],
) -> model_server_config_pb2.ModelServerConfig:
    """ModelServerConfig with a model_config_list of (name, base_path) entries."""
    config = model_server_config_pb2.ModelServerConfig()
    for name, base_path in models:
        entry = config.model_config_list.config.add()
        entry.name = name
        entry.base_path = str(base_path)
        entry.model_platform = "tensorflow"
    return config


def write_models_config(
    base: str | Path, served_base: str | Path | None = None
) -> Path:
    """Writes `<base>/models.config` listing every model folder under `base`.

    Args:
        base: the repository folder.
        served_base: the repository folder as the server sees it, written as given
            (e.g. "/models" inside a container); default: `base` made absolute.
    """
    base = Path(base)
    root = Path(served_base) if served_base else base.resolve()
    config = model_server_config((name, root / name) for name in list_models(base))
    path = base / MODELS_CONFIG
    _atomic_write(path, text_format.MessageToString(config))
    return path


def read_models_config(path: str | Path) -> list[model_server_config_pb2.ModelConfig]:
    """Parses a model_config_list text proto (`--model_config_file`)."""
    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(Path(path).read_text(encoding="utf-8"), config)
    except text_format.ParseError as error:
        raise ValueError(f"invalid model config file {path}: {error}") from None
    if config.WhichOneof("config") != "model_config_list":
        raise ValueError(f"{path} has no model_config_list")
    entries = list(config.model_config_list.config)
    for entry in entries:
        if not entry.name or not entry.base_path:
            raise ValueError(f"{path}: every config needs a name and a base_path")
        if entry.model_platform not in ("", "tensorflow"):
            raise ValueError(
                f"{path}: model {entry.name} has platform {entry.model_platform!r}; "
                "only 'tensorflow' is served"
            )
    return entries


def _batching_parameters_class():
    """The message class of tensorflow.serving.BatchingParameters (see docstring)."""
    pool = descriptor_pool.DescriptorPool()
    wrappers = descriptor_pb2.FileDescriptorProto()
    wrappers_pb2.DESCRIPTOR.CopyToProto(wrappers)
    pool.Add(wrappers)
    file = descriptor_pb2.FileDescriptorProto(
        name="hdr_keras_serving/session_bundle_config.proto",
        package="tensorflow.serving",
        syntax="proto3",
        dependency=[wrappers.name],
    )
    message = file.message_type.add(name="BatchingParameters")
    field = descriptor_pb2.FieldDescriptorProto
    wrapped = [
        ("max_batch_size", 1, ".google.protobuf.Int64Value"),
        ("batch_timeout_micros", 2, ".google.protobuf.Int64Value"),
        ("max_enqueued_batches", 3, ".google.protobuf.Int64Value"),
        ("num_batch_threads", 4, ".google.protobuf.Int64Value"),
        ("thread_pool_name", 5, ".google.protobuf.StringValue"),
    ]
    for name, number, type_name in wrapped:
        message.field.add(
            name=name,
            number=number,
            type=field.TYPE_MESSAGE,
            type_name=type_name,
            label=field.LABEL_OPTIONAL,
        )
    message.field.add(
        name="allowed_batch_sizes",
        number=6,
        type=field.TYPE_INT64,
        label=field.LABEL_REPEATED,
    )
    message.field.add(
        name="pad_variable_length_inputs",
        number=7,
        type=field.TYPE_BOOL,
        label=field.LABEL_OPTIONAL,
    )
    pool.Add(file)
    descriptor = pool.FindMessageTypeByName("tensorflow.serving.BatchingParameters")
    return message_factory.GetMessageClass(descriptor)


BatchingParameters = _batching_parameters_class()


def write_batching_config(base: str | Path, **overrides) -> Path:
    """Writes `<base>/batching.config` (DEFAULT_BATCHING updated by `overrides`)."""
    values = {**DEFAULT_BATCHING, **overrides}
    unknown = set(values) - set(DEFAULT_BATCHING) - {"allowed_batch_sizes"}
    if unknown:
        raise ValueError(f"unknown batching parameters: {sorted(unknown)}")
    params = BatchingParameters()
    for name in _BATCHING_INT_FIELDS:
        getattr(params, name).value = int(values[name])
    params.pad_variable_length_inputs = bool(values["pad_variable_length_inputs"])
    params.allowed_batch_sizes.extend(
        int(v) for v in values.get("allowed_batch_sizes", ())
    )
    path = Path(base) / BATCHING_CONFIG
    _atomic_write(path, text_format.MessageToString(params))
    return path


def read_batching_config(path: str | Path) -> dict:
    """Parses a BatchingParameters text proto into a dict of the fields set."""
    params = BatchingParameters()
    try:
        text_format.Parse(Path(path).read_text(encoding="utf-8"), params)
    except text_format.ParseError as error:
        raise ValueError(f"invalid batching parameters file {path}: {error}") from None
    values = {
        name: getattr(params, name).value
        for name in _BATCHING_INT_FIELDS
        if params.HasField(name)
    }
    values["pad_variable_length_inputs"] = params.pad_variable_length_inputs
    if params.allowed_batch_sizes:
        values["allowed_batch_sizes"] = list(params.allowed_batch_sizes)
    return values
