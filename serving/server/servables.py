"""The serving core: loads SavedModel versions, polls for new ones, runs signatures.

`ModelManager` plays the part of tensorflow_model_server's ServerCore for the
development server in `serving.server.model_server`:

- Each model has a name, a base path `<base>/<version:int>/saved_model.pb` and a
  version policy (`latest { num_versions: n }`, default n = 1, `all`, or
  `specific { versions: ... }`), as in a `model_config_list`.
- `poll()` scans the base paths; new aspired versions are loaded with
  `tf.saved_model.load` (outside the lock, so requests keep being served) and
  versions that are no longer aspired are unloaded once a newer one is available
  (availability preserving). A failed load is retried on later polls, up to
  `max_num_load_retries` times, and reported by `status()`.
- `predict()` checks the request against the signature (names, dtypes) and runs it;
  the signatures validate shapes and values themselves (`hdr_keras.export.signatures`).
  Every failure is a `ServingError` with the gRPC code TF Serving would send.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from pathlib import Path
from typing import Iterable, Mapping

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.config import model_server_config_pb2

from hdr_keras.inference.versions import list_versions
from serving.server.errors import ServingError, invalid_argument, not_found

DEFAULT_SIGNATURE = "serving_default"
State = get_model_status_pb2.ModelVersionStatus.State

logger = logging.getLogger(__name__)


def model_config(
    name: str, base_path: str | Path, **policy
) -> model_server_config_pb2.ModelConfig:
    """A ModelConfig proto for one model; `policy` e.g. latest=2, all=True."""
    config = model_server_config_pb2.ModelConfig(
        name=name, base_path=str(base_path), model_platform="tensorflow"
    )
    if policy.get("all"):
        config.model_version_policy.all.SetInParent()
    elif policy.get("specific"):
        config.model_version_policy.specific.versions.extend(policy["specific"])
    elif policy.get("latest"):
        config.model_version_policy.latest.num_versions = int(policy["latest"])
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


def _read_signature_defs(path: Path) -> dict[str, meta_graph_pb2.SignatureDef]:
    """The SignatureDefs of the `serve` MetaGraph in `path/saved_model.pb`."""
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((path / "saved_model.pb").read_bytes())
    for meta_graph in saved_model.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            return dict(meta_graph.signature_def)
    raise ValueError(f"{path} has no MetaGraph tagged 'serve'")


_NOISE = ("[[", "Detected at node", "File ", "Graph execution", "<stack traces")


def _clean_tf_message(message: str) -> str:
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


class Servable:
    """One loaded version of a model."""

    def __init__(self, name: str, version: int, path: Path):
        self.name = name
        self.version = version
        self.path = path
        self.signature_defs = _read_signature_defs(path)
        self._loaded = tf.saved_model.load(str(path), tags=["serve"])
        self.signatures = dict(self._loaded.signatures)
        self._input_specs = {
            key: dict(fn.structured_input_signature[1])
            for key, fn in self.signatures.items()
        }

    def input_specs(self, signature: str) -> dict[str, tf.TensorSpec]:
        """Input name -> TensorSpec of `signature` (NOT_FOUND when unknown)."""
        if signature not in self.signatures:
            raise not_found(
                f'Serving signature key "{signature}" not found in model '
                f"{self.name} version {self.version}; available: "
                f"{sorted(self.signatures)}"
            )
        return self._input_specs[signature]

    def output_names(self, signature: str) -> list[str]:
        return sorted(self.signature_defs[signature].outputs)

    def run(
        self,
        signature: str,
        inputs: Mapping[str, np.ndarray],
        output_filter: Iterable[str] = (),
    ) -> dict[str, np.ndarray]:
        """Runs `signature` on numpy `inputs`; ServingError on any bad request."""
        specs = self.input_specs(signature)
        missing = sorted(set(specs) - set(inputs))
        extra = sorted(set(inputs) - set(specs))
        if missing or extra:
            raise invalid_argument(
                f"input size does not match signature {signature}: got "
                f"{sorted(inputs)}, expected {sorted(specs)}. Sent extra: {extra}. "
                f"Missing but required: {missing}."
            )
        tensors = {}
        for name, spec in specs.items():
            tensor = tf.convert_to_tensor(inputs[name])
            if tensor.dtype != spec.dtype:
                raise invalid_argument(
                    f'input "{name}" must be {spec.dtype.name} '
                    f"({_dtype_enum_name(spec.dtype)}), got {tensor.dtype.name}"
                )
            tensors[name] = tensor
        wanted = list(output_filter)
        known = self.output_names(signature)
        unknown = sorted(set(wanted) - set(known))
        if unknown:
            raise invalid_argument(
                f"output tensor alias not found in signature: {unknown}; outputs "
                f"of {signature} are {known}"
            )
        try:
            outputs = self.signatures[signature](**tensors)
        except tf.errors.OpError as error:
            code = grpc.StatusCode.INVALID_ARGUMENT
            for candidate in grpc.StatusCode:
                if candidate.value[0] == error.error_code:
                    code = candidate
            raise ServingError(code, _clean_tf_message(error.message)) from None
        except (TypeError, ValueError) as error:
            raise invalid_argument(_clean_tf_message(str(error))) from None
        names = wanted or list(outputs)
        return {name: outputs[name].numpy() for name in names}


def _dtype_enum_name(dtype: tf.DType) -> str:
    from tensorflow.core.framework import types_pb2

    return types_pb2.DataType.Name(dtype.as_datatype_enum)


@dataclasses.dataclass
class _VersionState:
    state: int = State.START
    error_code: grpc.StatusCode = grpc.StatusCode.OK
    error_message: str = ""
    failures: int = 0


class ModelManager:
    """Loads, polls and serves the models of a model_config_list.

    Args:
        configs: ModelConfig protos (`serving.export.repository.read_models_config`,
            or `model_config(name, base_path)`).
        max_num_load_retries: extra load attempts of a failing version.
    """

    def __init__(self, configs: Iterable, max_num_load_retries: int = 5):
        self._lock = threading.RLock()
        self._poll_lock = threading.Lock()
        self._configs: dict = {}
        self._loaded: dict[str, dict[int, Servable]] = {}
        self._states: dict[str, dict[int, _VersionState]] = {}
        self.max_num_load_retries = max_num_load_retries
        self.set_configs(configs)

    def set_configs(self, configs: Iterable) -> None:
        """Replaces the served model list (models not listed any more are dropped)."""
        configs = {config.name: config for config in configs}
        with self._lock:
            for name in set(self._configs) - set(configs):
                self._loaded.pop(name, None)
                for state in self._states.pop(name, {}).values():
                    state.state = State.END
            self._configs = configs
            for name in configs:
                self._loaded.setdefault(name, {})
                self._states.setdefault(name, {})

    @property
    def model_names(self) -> list[str]:
        with self._lock:
            return sorted(self._configs)

    def poll(self) -> None:
        """One scan of every base path: load new aspired versions, unload old ones."""
        with self._poll_lock:
            with self._lock:
                configs = list(self._configs.values())
            for config in configs:
                self._poll_model(config)

    def _poll_model(self, config) -> None:
        name = config.name
        # A folder still being written (no saved_model.pb yet) is skipped until complete.
        found = list_versions(config.base_path)
        aspired = aspired_versions(config, found)
        with self._lock:
            loaded = dict(self._loaded.get(name, {}))
            states = self._states.setdefault(name, {})
        if not found:
            logger.warning("no versions of model %s under %s", name, config.base_path)
        for version in sorted(aspired - set(loaded), reverse=True):
            state = states.setdefault(version, _VersionState())
            if state.failures > self.max_num_load_retries:
                continue
            state.state = State.LOADING
            try:
                servable = Servable(name, version, found[version])
            except Exception as error:  # any failure: report it, keep serving
                state.failures += 1
                state.state = State.END
                state.error_code = grpc.StatusCode.UNKNOWN
                state.error_message = f"loading {found[version]} failed: {error}"
                logger.error("model %s version %d: %s", name, version, error)
                continue
            with self._lock:
                if name not in self._configs:  # dropped by a config reload
                    return
                self._loaded.setdefault(name, {})[version] = servable
                state.state = State.AVAILABLE
                state.error_code, state.error_message = grpc.StatusCode.OK, ""
            logger.info(
                "model %s version %d loaded from %s", name, version, servable.path
            )
        with self._lock:
            current = self._loaded.get(name, {})
            keep_old = not (aspired & set(current))  # nothing new available yet
            for version in list(current):
                gone = version not in found
                if gone or (version not in aspired and not keep_old):
                    del current[version]
                    states[version].state = State.END
                    logger.info("model %s version %d unloaded", name, version)

    def get(self, name: str, version: int | None = None) -> Servable:
        """The requested servable (latest loaded version when `version` is None)."""
        with self._lock:
            versions = self._loaded.get(name, {})
            if version is None:
                if versions:
                    return versions[max(versions)]
                raise not_found(f"Servable not found for request: Latest({name})")
            if version in versions:
                return versions[version]
        raise not_found(f"Servable not found for request: Specific({name}, {version})")

    def status(self, name: str, version: int | None = None) -> list[tuple]:
        """[(version, State, error code, message)] as in GetModelStatusResponse."""
        with self._lock:
            if name not in self._configs or not self._states.get(name):
                raise not_found(f"Could not find any versions of model {name}")
            states = self._states[name]
            if version is not None:
                if version not in states:
                    raise not_found(f"Could not find version {version} of model {name}")
                states = {version: states[version]}
            return [
                (v, s.state, s.error_code, s.error_message)
                for v, s in sorted(states.items(), reverse=True)
            ]

    def predict(
        self,
        name: str,
        version: int | None,
        signature: str,
        inputs: Mapping[str, np.ndarray],
        output_filter: Iterable[str] = (),
    ) -> tuple[Servable, dict[str, np.ndarray]]:
        servable = self.get(name, version)
        outputs = servable.run(signature or DEFAULT_SIGNATURE, inputs, output_filter)
        return servable, outputs
