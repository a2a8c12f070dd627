"""The serving core: polls base paths, loads and unloads versions, resolves requests.

`ModelManager` plays the part of tensorflow_model_server's ServerCore, following
TF Serving's sources (tensorflow/serving):

- Versions (sources/storage_path/file_system_storage_path_source.cc): every child
  of the base path whose name parses as an integer (`ParseVersionNumber`, absl
  SimpleAtoi) is a version; a half-written one simply fails to load. A base path
  that cannot be read keeps the served versions (the poll fails and changes
  nothing); a readable base path without versions unloads them.
- Policies `latest { num_versions }` (default 1), `all`, `specific`; an old version
  is unloaded only once a newer aspired one is available (availability preserving).
- A failing load (core/loader_harness.cc, util/retrier.cc) is retried
  `max_num_load_retries` times, `load_retry_interval_micros` apart, then the
  version is reported END with the loader's error code and never retried while its
  folder stays.
- Requests (model_servers/server_core.cc, `ServableRequestFromModelSpec`): an empty
  name is INVALID_ARGUMENT "ModelSpec has no name specified."; a version label
  (`version_labels` in models.config) resolves to its version, an unknown one is
  INVALID_ARGUMENT "Unrecognized servable version label: x"; a missing servable is
  NOT_FOUND (core/basic_manager.cc) "Servable not found for request: ...".
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from pathlib import Path
from typing import Iterable

import grpc
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2

from serving.server.errors import ServingError, invalid_argument, not_found
from serving.server.servables import (
    Servable,
    aspired_versions,
    clean_tf_message,
    status_code_of,
)

State = get_model_status_pb2.ModelVersionStatus.State
# absl::SimpleAtoi: optional surrounding whitespace and sign, then digits.
_VERSION_NAME = re.compile(r"\s*[+-]?\d+\s*")

logger = logging.getLogger(__name__)


def scan_versions(base_path: str | Path) -> dict[int, Path] | None:
    """Version -> folder for every integer-named child; None if unreadable."""
    base = Path(base_path)
    try:
        children = list(base.iterdir())
    except OSError:
        return None
    versions = {}
    for child in children:
        if _VERSION_NAME.fullmatch(child.name):
            versions.setdefault(int(child.name), child)
    return versions


def load_error(error: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status a failed load reports (the loader's own code when it has one)."""
    if isinstance(error, ServingError):
        return error.code, error.message
    if isinstance(error, tf.errors.OpError):
        return status_code_of(error), clean_tf_message(error.message)
    if isinstance(error, (FileNotFoundError, NotADirectoryError)):
        return grpc.StatusCode.NOT_FOUND, str(error)
    return grpc.StatusCode.UNKNOWN, f"{type(error).__name__}: {error}"


@dataclasses.dataclass
class _VersionState:
    state: int = State.START
    error_code: grpc.StatusCode = grpc.StatusCode.OK
    error_message: str = ""
    path: Path | None = None


class ModelManager:
    """Loads, polls and serves the models of a model_config_list.

    Args:
        configs: ModelConfig protos (`serving.export.repository.read_models_config`,
            or `serving.server.servables.model_config`).
        max_num_load_retries: extra load attempts of a failing version.
        load_retry_interval_seconds: wait between two attempts.
        max_pixels_per_request: pixel budget of every model (None: derived per model
            from the machine's memory, `serving.server.budget`).
        stopping: set when the server stops (ends retry waits early).
    """

    def __init__(
        self,
        configs: Iterable,
        max_num_load_retries: int = 5,
        load_retry_interval_seconds: float = 60.0,
        max_pixels_per_request: int | None = None,
        stopping: threading.Event | None = None,
    ):
        self._lock = threading.RLock()
        self._poll_lock = threading.Lock()
        self._configs: dict = {}
        self._loaded: dict[str, dict[int, Servable]] = {}
        self._states: dict[str, dict[int, _VersionState]] = {}
        self.max_num_load_retries = max(0, int(max_num_load_retries))
        self.load_retry_interval_seconds = max(0.0, load_retry_interval_seconds)
        self.max_pixels_per_request = max_pixels_per_request
        self.stopping = stopping or threading.Event()
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

    def _load(self, name: str, version: int, path: Path, state: _VersionState):
        """Loads with retries; the Servable, or None after the last failure."""
        for attempt in range(self.max_num_load_retries + 1):
            if attempt and self.stopping.wait(self.load_retry_interval_seconds):
                return None
            try:
                return Servable(name, version, path, self.max_pixels_per_request)
            except Exception as error:  # any failure: report it, keep serving
                state.error_code, state.error_message = load_error(error)
                logger.error(
                    "model %s version %d, attempt %d of %d: %s",
                    name,
                    version,
                    attempt + 1,
                    self.max_num_load_retries + 1,
                    state.error_message,
                )
        return None

    def _poll_model(self, config) -> None:
        name = config.name
        found = scan_versions(config.base_path)
        if found is None:  # TF Serving's poll fails and changes nothing
            logger.error(
                "Could not find base path %s for servable %s", config.base_path, name
            )
            return
        aspired = aspired_versions(config, found)
        with self._lock:
            loaded = dict(self._loaded.get(name, {}))
            states = self._states.setdefault(name, {})
            for version in [v for v in states if v not in found]:
                failed = states[version].error_code != grpc.StatusCode.OK
                if version not in loaded and failed:  # gone: a new folder is retried
                    del states[version]
        if not found:
            logger.warning(
                "No versions of servable %s found under base path %s",
                name,
                config.base_path,
            )
        for version in sorted(aspired - set(loaded), reverse=True):
            state = states.setdefault(version, _VersionState())
            if state.state == State.END and state.error_code != grpc.StatusCode.OK:
                continue  # failed for good (TF Serving never retries it)
            state.state, state.path = State.LOADING, found[version]
            servable = self._load(name, version, found[version], state)
            with self._lock:
                if name not in self._configs:  # dropped by a config reload
                    return
                if servable is None:
                    state.state = State.END
                    continue
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

    def startup_failures(self) -> list[str] | None:
        """None while a model is still loading; else the models that did not become
        available (server_core.cc: "N model(s) did not become available")."""
        failures = []
        with self._lock:
            for name, config in self._configs.items():
                if self._loaded.get(name):
                    continue
                states = self._states.get(name, {})
                found = scan_versions(config.base_path) or {}
                aspired = aspired_versions(config, found)
                if not aspired or any(
                    states.get(v) is None or states[v].state != State.END
                    for v in aspired
                ):
                    return None
                errors = [
                    f"{{name: {name} version: {v}}} due to error: "
                    f"{states[v].error_code.name}: {states[v].error_message}"
                    for v in sorted(aspired)
                ]
                failures.extend(errors)
        return failures

    def resolve_version(
        self, name: str, version: int | None, label: str = ""
    ) -> int | None:
        if not name:
            raise invalid_argument("ModelSpec has no name specified.")
        if not label:
            return version
        with self._lock:
            config = self._configs.get(name)
            if config is None or label not in config.version_labels:
                raise invalid_argument(f"Unrecognized servable version label: {label}")
            return int(config.version_labels[label])

    def get(self, name: str, version: int | None = None, label: str = "") -> Servable:
        """The requested servable (latest loaded version when `version` is None)."""
        version = self.resolve_version(name, version, label)
        with self._lock:
            versions = self._loaded.get(name, {})
            if version is None:
                if versions:
                    return versions[max(versions)]
                raise not_found(f"Servable not found for request: Latest({name})")
            if version in versions:
                return versions[version]
        raise not_found(f"Servable not found for request: Specific({name}, {version})")

    def status(
        self, name: str, version: int | None = None, label: str = ""
    ) -> list[tuple]:
        """[(version, State, error code, message)] as in GetModelStatusResponse."""
        version = self.resolve_version(name, version, label)
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
