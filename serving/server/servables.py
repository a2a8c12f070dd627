"""One loaded SavedModel version (`Servable`) and the model config helpers.

A request goes through the checks in TF Serving's order (tensorflow_serving/
servables/tensorflow/predict_util.cc, `RunPredict` / `PreProcessPrediction`):
the signature (`check_signature`: FAILED_PRECONDITION `Serving signature key "x" not
found.`), the input names (`check_input_names`: INVALID_ARGUMENT "input size does not
match signature"), then the tensors. Before any TensorFlow op runs, the request's
pixels are checked against the model's budget (`check_budget`,
`serving.server.budget`). The signatures validate shapes and values themselves
(`hdr_keras.export.signatures`). The version bookkeeping is `serving.server.manager`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Callable, Iterable, Mapping

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2
from tensorflow_serving.config import model_server_config_pb2

from serving.server import budget
from serving.server.errors import ServingError, invalid_argument

DEFAULT_SIGNATURE = "serving_default"
# Side of the square probe image run at load time to measure the model's memory.
PROBE_SIDE = 128
PROBE_FRAMES = 3

logger = logging.getLogger(__name__)


def model_config(
    name: str, base_path: str | Path, **policy
) -> model_server_config_pb2.ModelConfig:
    """A ModelConfig proto for one model; `policy` e.g. latest=2, all=True,
    specific=[1, 2]; `labels={"stable": 1}` sets version labels."""
    config = model_server_config_pb2.ModelConfig(
        name=name, base_path=str(base_path), model_platform="tensorflow"
    )
    if policy.get("all"):
        config.model_version_policy.all.SetInParent()
    elif policy.get("specific"):
        config.model_version_policy.specific.versions.extend(policy["specific"])
    elif policy.get("latest"):
        config.model_version_policy.latest.num_versions = int(policy["latest"])
    for label, version in (policy.get("labels") or {}).items():
        config.version_labels[label] = int(version)
    return config


def aspired_versions(config, available: Iterable[int]) -> set[int]:
    """The versions the policy of `config` wants served among `available`."""
    available = sorted(available)
    policy = config.model_version_policy
    which = policy.WhichOneof("policy_choice")
    if which == "all":
        return set(available)
    if which == "specific":
        return set(policy.specific.versions) & set(available)
    count = policy.latest.num_versions if which == "latest" else 1
    return set(available[-max(1, count) :])


def read_signature_defs(path: Path) -> dict[str, meta_graph_pb2.SignatureDef]:
    """The SignatureDefs of the `serve` MetaGraph in `path/saved_model.pb`."""
    pb = path / "saved_model.pb"
    if not pb.is_file():
        raise ServingError(
            grpc.StatusCode.NOT_FOUND,
            f"Could not find SavedModel .pb or .pbtxt at supplied export directory "
            f"path: {path}",
        )
    saved_model = saved_model_pb2.SavedModel()
    try:
        saved_model.ParseFromString(pb.read_bytes())
    except Exception as error:  # protobuf's DecodeError
        raise ServingError(
            grpc.StatusCode.DATA_LOSS, f"Can't parse {pb} as binary proto: {error}"
        ) from None
    for meta_graph in saved_model.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            return dict(meta_graph.signature_def)
    raise ServingError(
        grpc.StatusCode.NOT_FOUND,
        f"Could not find meta graph def matching supplied tags: {{ serve }} in {path}",
    )


_NOISE = ("[[", "Detected at node", "File ", "Graph execution", "<stack traces")


def clean_tf_message(message: str) -> str:
    """The readable part of a TF error: drops node names, op names and tracebacks."""
    kept = []
    for line in message.splitlines():
        text = line.strip()
        if not text or text.startswith(_NOISE):
            continue
        text = re.sub(r"\s*\[Op:[^\]]*\]\s*(name:.*)?$", "", text)
        if text:
            kept.append(text)
    return "\n".join(kept) or message


def status_code_of(error: tf.errors.OpError) -> grpc.StatusCode:
    for candidate in grpc.StatusCode:
        if candidate.value[0] == error.error_code:
            return candidate
    return grpc.StatusCode.UNKNOWN


def _image_inputs(signature: meta_graph_pb2.SignatureDef) -> dict[str, str]:
    """Input name -> "float" (image tensor) or "encoded" (string images)."""
    from tensorflow.core.framework import types_pb2

    kinds = {}
    for name, info in signature.inputs.items():
        dims = [dim.size for dim in info.tensor_shape.dim]
        if budget.is_image_input(info.dtype, dims):
            kinds[name] = "float"
        elif info.dtype == types_pb2.DT_STRING:
            kinds[name] = "encoded"
    return kinds


class Servable:
    """One loaded version of a model.

    Args:
        max_pixels: pixel budget per request; None derives it from the machine's
            memory and a probe run of the model (`serving.server.budget`).
    """

    def __init__(self, name: str, version: int, path: Path, max_pixels=None):
        self.name = name
        self.version = version
        self.path = path
        self.signature_defs = read_signature_defs(path)
        self._loaded = tf.saved_model.load(str(path), tags=["serve"])
        self.signatures = dict(self._loaded.signatures)
        self._input_specs = {
            key: dict(fn.structured_input_signature[1])
            for key, fn in self.signatures.items()
        }
        self.image_inputs = {
            key: _image_inputs(sig) for key, sig in self.signature_defs.items()
        }
        self.max_pixels = max_pixels if max_pixels else self._derive_budget()

    def _probe_inputs(self, side: int) -> dict[str, np.ndarray] | None:
        """Inputs of serving_default for a side x side probe (None: not an image
        model this probe knows: a float image input plus optional [B, N] floats)."""
        specs = self._input_specs.get(DEFAULT_SIGNATURE, {})
        kinds = self.image_inputs.get(DEFAULT_SIGNATURE, {})
        inputs = {}
        for name, spec in specs.items():
            if kinds.get(name) == "float":
                lead = (1,) if spec.shape.rank == 4 else (1, PROBE_FRAMES)
                inputs[name] = np.full(lead + (side, side, 3), 0.5, np.float32)
            elif spec.dtype == tf.float32 and spec.shape.rank == 2:
                stops = np.arange(PROBE_FRAMES, dtype=np.float32) * 2.0
                inputs[name] = stops[None]
            else:
                return None
        return inputs if any(kinds.get(n) == "float" for n in inputs) else None

    def _derive_budget(self) -> int | None:
        if self._probe_inputs(1) is None:
            logger.warning(
                "model %s version %d: no float image input to measure; no pixel "
                "budget (set --max_pixels_per_request)",
                self.name,
                self.version,
            )
            return None

        def run(side: int) -> None:
            fn = self.signatures[DEFAULT_SIGNATURE]
            fn(**{k: tf.constant(v) for k, v in self._probe_inputs(side).items()})

        try:
            measured = budget.measure_bytes_per_pixel(run, PROBE_SIDE)
        except Exception as error:  # a model that cannot run the probe
            logger.warning("model %s: probe run failed (%s)", self.name, error)
            return None
        if measured is None:
            return None
        # The input itself (3 float32 per pixel) is a lower bound on the memory.
        per_pixel = max(measured, 3.0 * budget.FLOAT32_BYTES)
        limit = budget.derive_max_pixels(per_pixel)
        logger.info(
            "model %s version %d: %.0f bytes per pixel measured; at most %d pixels "
            "per request",
            self.name,
            self.version,
            per_pixel,
            limit,
        )
        return limit

    def check_signature(self, signature: str) -> None:
        if signature not in self.signatures:
            raise ServingError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f'Serving signature key "{signature}" not found.',
            )

    def input_specs(self, signature: str) -> dict[str, tf.TensorSpec]:
        self.check_signature(signature)
        return self._input_specs[signature]

    def output_names(self, signature: str) -> list[str]:
        return sorted(self.signature_defs[signature].outputs)

    def check_input_names(self, signature: str, names: Iterable[str]) -> None:
        """As predict_util.cc's VerifyRequestInputsSize."""
        specs = self.input_specs(signature)
        names = sorted(names)
        missing = sorted(set(specs) - set(names))
        extra = sorted(set(names) - set(specs))
        if missing or extra:
            raise invalid_argument(
                f"input size does not match signature: {len(names)}!={len(specs)} "
                f"len({{{','.join(names)}}}) != len({{{','.join(sorted(specs))}}}). "
                f"Sent extra: {{{','.join(extra)}}}. Missing but required: "
                f"{{{','.join(missing)}}}."
            )

    def check_budget(
        self,
        signature: str,
        shapes: Mapping[str, list[int]],
        strings: Mapping[str, Callable[[], list[bytes]]],
    ) -> None:
        """RESOURCE_EXHAUSTED when the request's pixels exceed the budget, or when
        any input declares more elements than an image of the budget holds (a
        TensorProto with a huge shape and one value would be expanded in memory)."""
        pixels = budget.request_pixels(self.image_inputs[signature], shapes, strings)
        budget.check_pixels(pixels, self.max_pixels, self.name, self.version)
        limit = budget.MAX_TENSOR_ELEMENTS
        if self.max_pixels is not None:
            limit = min(limit, 3 * self.max_pixels)
        for name, shape in shapes.items():
            elements = int(np.prod([max(0, int(n)) for n in shape], dtype=np.float64))
            if elements > limit:
                raise ServingError(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f'input "{name}" declares {elements} elements; model {self.name} '
                    f"version {self.version} takes at most {limit} per input "
                    f"(--max_pixels_per_request); {budget.TILE_HINT}",
                )

    def run(
        self,
        signature: str,
        inputs: Mapping[str, np.ndarray],
        output_filter: Iterable[str] = (),
    ) -> dict[str, np.ndarray]:
        """Runs `signature` on numpy `inputs`; ServingError on any bad request."""
        specs = self.input_specs(signature)
        self.check_input_names(signature, inputs)
        self.check_budget(
            signature,
            {k: list(np.shape(v)) for k, v in inputs.items()},
            {k: (lambda v=v: list(np.ravel(v))) for k, v in inputs.items()},
        )
        tensors = {}
        for name, spec in specs.items():
            array = np.asarray(inputs[name])
            if array.dtype.kind in "OSU" and spec.dtype != tf.string:
                raise _dtype_error(name, spec.dtype, tf.string)
            tensor = tf.convert_to_tensor(array)
            if tensor.dtype != spec.dtype:
                raise _dtype_error(name, spec.dtype, tensor.dtype)
            tensors[name] = tensor
        wanted = list(output_filter)
        known = self.output_names(signature)
        for alias in wanted:
            if alias not in known:
                raise invalid_argument(
                    f"output tensor alias not found in signature: {alias} Outputs "
                    f"expected to be in the set {{{','.join(known)}}}."
                )
        if len(set(wanted)) != len(wanted):
            raise invalid_argument("duplicate output tensor alias in output_filter")
        try:
            outputs = self.signatures[signature](**tensors)
        except tf.errors.OpError as error:
            raise ServingError(
                status_code_of(error), clean_tf_message(error.message)
            ) from None
        except (TypeError, ValueError) as error:
            raise invalid_argument(clean_tf_message(str(error))) from None
        names = wanted or list(outputs)
        return {name: outputs[name].numpy() for name in names}


def _dtype_error(name: str, expected: tf.DType, got: tf.DType) -> ServingError:
    from tensorflow.core.framework import types_pb2

    return invalid_argument(
        f'input "{name}" must be {expected.name} '
        f"({types_pb2.DataType.Name(expected.as_datatype_enum)}), got {got.name}"
    )
