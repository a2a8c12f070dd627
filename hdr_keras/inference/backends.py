"""Prediction backends: a `.keras` file, a SavedModel or a registered method.

A `Backend` maps one LDR tile (batch of one) to linear HDR [1, h, w, 3] and knows
what the tiling needs: the input kind, the stride, whether the method must see the
whole image and whether its output is radiance or a display image.

Where that knowledge comes from:
- a Keras model named after a registered method: the registry entry;
- a SavedModel: its metadata asset (`hdr_keras.inference.metadata`); a SavedModel
  exported before the asset existed falls back to its folder name
  (`models/eilertsen/3` -> "eilertsen") when that is a registered method;
- `method=` given explicitly: that registry entry, over both.
A model servable over gRPC/REST is a backend too: `serving.predict` builds it.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Callable

import numpy as np

from hdr_keras.inference.metadata import LINEAR, ModelMetadata, read_metadata
from hdr_keras.inference.paths import KERAS, resolve_model_path
from hdr_keras.registry import get_method, list_methods
from hdr_keras.spec import SINGLE, STACK

STACK_INPUTS = {"ldr", "exposure"}

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Backend:
    """Something that maps one LDR tile (batch of 1) to linear HDR [1, h, w, 3]."""

    input_kind: str
    predict: Callable[[np.ndarray, np.ndarray | None], np.ndarray]
    description: str
    stride: int | None = None
    whole_image: bool = False  # never tile (global calibration or pyramid)
    output_kind: str = LINEAR  # or "display": the output is an image in [0, 1]
    method: str | None = None  # the registered method, when known

    def use_spec(self, spec) -> "Backend":
        """Takes the stride, tiling and output kind of registry entry `spec`."""
        self.method = spec.name
        self.stride = spec.stride
        self.whole_image = spec.whole_image
        self.output_kind = spec.output_kind
        return self

    def use_metadata(self, metadata: ModelMetadata) -> "Backend":
        """Takes the stride, tiling and output kind of an export's metadata."""
        self.method = metadata.method
        self.stride = metadata.stride
        self.whole_image = metadata.whole_image
        self.output_kind = metadata.output_kind
        return self


def infer_input_kind(model) -> str:
    """ "stack" for a model taking {"ldr", "exposure"}, "single" for one rank-4 input.

    Raises ValueError when the inputs fit neither serving contract.
    """
    inputs = model_inputs(model)
    if isinstance(inputs, dict):
        if set(inputs) == STACK_INPUTS:
            return STACK
        raise ValueError(
            "cannot infer the input kind: a dict-input model must take exactly "
            f"'ldr' and 'exposure', got {sorted(inputs)}"
        )
    tensors = model.inputs if getattr(model, "inputs", None) else []
    if len(tensors) == 1 and len(tensors[0].shape) == 4:
        return SINGLE
    shapes = [tuple(tensor.shape) for tensor in tensors]
    raise ValueError(
        "cannot infer the input kind from the model inputs "
        f"{shapes or '(none: not a functional model)'}; pass --method"
    )


def model_inputs(model):
    """The input structure of a built model (`model.input`: a dict of tensors for
    a dict-input functional model), or None when it has none yet."""
    try:
        return model.input
    except (AttributeError, ValueError):  # a subclassed model never called
        return None


def keras_backend(model, input_kind: str | None = None, stride: int | None = None):
    """A Keras model run through the serving validation (float32 tiles)."""
    import tensorflow as tf

    from hdr_keras.inference.validation import (
        EXPOSURE_SPEC,
        SINGLE_LDR_SPEC,
        STACK_LDR_SPEC,
        validate_single,
        validate_stack,
    )

    kind = input_kind or infer_input_kind(model)
    if kind == STACK:

        @tf.function(input_signature=[STACK_LDR_SPEC, EXPOSURE_SPEC])
        def run(ldr, exposure):
            ldr, exposure = validate_stack(ldr, exposure)
            return model({"ldr": ldr, "exposure": exposure}, training=False)

        def predict(ldr, exposure):
            return run(ldr, exposure).numpy()

    else:

        @tf.function(input_signature=[SINGLE_LDR_SPEC])
        def run_single(ldr):
            return model(validate_single(ldr), training=False)

        def predict(ldr, exposure):
            return run_single(ldr).numpy()

    backend = Backend(kind, predict, f"Keras model {model.name}")
    if model.name in list_methods():
        backend.use_spec(get_method(model.name))
    if stride is not None:
        backend.stride = stride
    return backend


def saved_model_backend(path: str | Path) -> Backend:
    """A SavedModel version folder, or a model folder (its latest version).

    The stride, output kind and tiling come from the export's metadata asset, or
    for an export without one from the folder name (module docstring).
    """
    import tensorflow as tf

    path = Path(path)
    resolved = resolve_model_path(path)
    if resolved.kind == KERAS:
        raise ValueError(f"{path} is neither a SavedModel nor a folder of versions")
    version = resolved.path
    loaded = tf.saved_model.load(str(version))
    signature = loaded.signatures["serving_default"]
    names = set(signature.structured_input_signature[1])
    kind = STACK if "exposure" in names else SINGLE

    def predict(ldr, exposure):
        inputs = {"ldr": tf.constant(ldr)}
        if kind == STACK:
            inputs["exposure"] = tf.constant(exposure)
        return signature(**inputs)["hdr"].numpy()

    predict.loaded = loaded  # keep the restored object alive with the function
    backend = Backend(kind, predict, f"SavedModel {version}")
    metadata = read_metadata(version)
    if metadata is not None:
        if metadata.input_kind != kind:
            raise ValueError(
                f"{version}: the metadata says {metadata.input_kind} input but the "
                f"serving signature takes {kind} input"
            )
        return backend.use_metadata(metadata)
    named = model_folder_name(version)
    if named in list_methods():  # written before the metadata asset existed
        logger.info("%s has no metadata: taken as method %s", version, named)
        backend.use_spec(get_method(named))
    return backend


def model_folder_name(path: Path) -> str:
    """ "eilertsen" for models/eilertsen or models/eilertsen/3."""
    return path.parent.name if path.name.isdigit() else path.name


def method_backend(name: str) -> Backend:
    """A registered method used without trained weights (training-free methods only).

    A method is training-free when its registry entry sets `training_free=True`.
    """
    spec = get_method(name)
    if not spec.training_free:
        raise ValueError(f"method {name} needs a trained model: pass --model")
    from hdr_keras.registry import build_model

    backend = keras_backend(build_model(name), spec.input_kind)
    return backend.use_spec(spec)


def load_keras_file(path: str | Path):
    """The model of a `.keras` file, without its training configuration."""
    import keras

    import hdr_keras  # noqa: F401  (registers the custom layers)

    return keras.saving.load_model(path, compile=False)


def authors_backend(method: str, path: str | Path) -> Backend:
    """Method `method` with the authors' published weights from `path`
    (`hdr_keras.load_authors_weights`: their own file format)."""
    from hdr_keras.authors import load_authors_weights

    spec = get_method(method)
    backend = keras_backend(load_authors_weights(method, path), spec.input_kind)
    backend.description = f"{method} with the authors' weights {path}"
    return backend.use_spec(spec)


def load_backend(
    model: str | Path | None = None,
    method: str | None = None,
    authors_weights: str | Path | None = None,
):
    """The backend of `model` (any form `resolve_model_path` accepts) or `method`.

    With both, `method` is the registry entry the model implements: it gives the
    input kind of a `.keras` file and the stride and output kind of either.
    `authors_weights`: an authors' checkpoint of `method` (instead of `model`).
    """
    if authors_weights:
        if not method or model:
            raise ValueError("--authors_weights needs --method (and no --model)")
        return authors_backend(method, authors_weights)
    if not model:
        if method:
            return method_backend(method)
        raise ValueError("pass --model or --method")
    resolved = resolve_model_path(model)
    spec = get_method(method) if method else None
    if resolved.kind == KERAS:
        loaded = load_keras_file(resolved.path)
        backend = keras_backend(loaded, spec.input_kind if spec else None)
        return backend.use_spec(spec) if spec else backend
    backend = saved_model_backend(resolved.path)
    if spec is not None:
        check_input_kind(backend, spec)
        if backend.method not in (None, spec.name):
            logger.warning(
                "%s says method %s; using --method=%s",
                backend.description,
                backend.method,
                spec.name,
            )
        backend.use_spec(spec)
    return backend


def check_input_kind(backend: Backend, spec) -> None:
    """ValueError when method `spec` and `backend` take different inputs."""
    if spec.input_kind != backend.input_kind:
        raise ValueError(
            f"method {spec.name} takes {spec.input_kind} input but "
            f"{backend.description} takes {backend.input_kind} input"
        )
