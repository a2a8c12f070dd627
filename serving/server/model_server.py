"""A TF-Serving-protocol-compatible model server, for development and tests.

The real `tensorflow_model_server` ships only as a Docker image or an apt package
(see README, "Export and serving"); this server speaks the same protocols over the
same SavedModels so clients, tests and the predict CLI run anywhere:

    python -m serving.server --port=8500 --rest_api_port=8501 \
        --model_name=eilertsen --model_base_path=/abs/models/eilertsen
    python -m serving.server --model_config_file=models/models.config

- gRPC (`--port`): tensorflow.serving.PredictionService (Predict, GetModelMetadata)
  and ModelService (GetModelStatus, HandleReloadConfigRequest), registered with the
  official `tensorflow_serving.apis` stubs; at most `--grpc_max_threads` (default
  4 x CPUs, as model_servers/server.h) calls run at once, more are refused with
  RESOURCE_EXHAUSTED (the real server's gRPC ResourceQuota, server.cc); messages
  above 2 GiB - 1 or `--grpc_channel_arguments=grpc.max_receive_message_length=N`
  are rejected by gRPC with RESOURCE_EXHAUSTED.
- REST (`--rest_api_port`, 0 = off): `serving.server.rest`.
- Versions: `serving.server.servables.ModelManager`; the base paths are polled every
  `--file_system_poll_wait_seconds`, so a newly exported version is served without
  a restart (latest version by default; others via model_spec.version).

The ports open only once every model has a version available; when one cannot
load, the server exits (server_core.cc, `WaitUntilModelsAvailable`). It binds
127.0.0.1. Behaviour that differs from tensorflow_model_server is listed in
docs/serving.md ("Compatibility with TensorFlow Serving", built from
`serving/server/compat.py`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Iterable, Sequence

import grpc

from serving.export import repository
from serving.server import grpc_service, rest
from serving.server.manager import ModelManager

INT32_MAX = (1 << 31) - 1

logger = logging.getLogger(__name__)


def _cpu_count() -> int:
    return max(1, os.cpu_count() or 1)


def parse_channel_arguments(text: str) -> list[tuple[str, int | str]]:
    """ "k1=v1,k2=v2" -> [(k1, v1), ...], integer values as int (as TF Serving)."""
    arguments = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"bad gRPC channel argument {item!r}: expected key=value")
        try:
            arguments.append((key, int(value)))
        except ValueError:
            arguments.append((key, value))
    return arguments


class ModelServer:
    """gRPC + REST servers and the version poller over one `ModelManager`.

    Args:
        configs: ModelConfig protos (see `serving.server.servables.model_config`).
        port: gRPC port (0: pick a free one; read `grpc_port` after `start()`).
        rest_api_port: REST port (0: no REST server; None: pick a free one).
        host: interface to bind.
        max_message_bytes: gRPC max receive and send message size (and REST body
            limit).
        grpc_channel_arguments: extra gRPC server options, applied last.
        file_system_poll_wait_seconds: period of the version poll (<= 0: once).
        model_config_file / model_config_file_poll_wait_seconds: re-read the
            model list from this file periodically (0: never).
        max_num_load_retries / load_retry_interval_seconds: retries of a failed
            load (`serving.server.manager`).
        rest_api_timeout_seconds: REST prediction deadline (504 after).
        tensor_content: answer Predict with `tensor_content` instead of the typed
            `*_val` fields.
        max_pixels_per_request: pixel budget of every model (None: derived from
            the machine's memory and each model, `serving.server.budget`).
    """

    def __init__(
        self,
        configs: Iterable,
        port: int = 8500,
        rest_api_port: int | None = 8501,
        host: str = "127.0.0.1",
        max_message_bytes: int = INT32_MAX,
        grpc_channel_arguments: Sequence[tuple[str, int | str]] = (),
        grpc_max_threads: int | None = None,
        rest_api_num_threads: int | None = None,
        file_system_poll_wait_seconds: float = 1.0,
        model_config_file: str | Path | None = None,
        model_config_file_poll_wait_seconds: float = 0.0,
        max_num_load_retries: int = 5,
        load_retry_interval_seconds: float = 60.0,
        rest_api_timeout_seconds: float | None = 30.0,
        tensor_content: bool = False,
        max_pixels_per_request: int | None = None,
    ):
        if rest_api_port and rest_api_port == port:
            raise ValueError("--rest_api_port cannot be the same as --port")
        self._stopping = threading.Event()
        self.manager = ModelManager(
            configs,
            max_num_load_retries=max_num_load_retries,
            load_retry_interval_seconds=load_retry_interval_seconds,
            max_pixels_per_request=max_pixels_per_request,
            stopping=self._stopping,
        )
        self.rest_api_timeout_seconds = rest_api_timeout_seconds
        self.tensor_content = tensor_content
        self.host = host
        self._port = port
        self._rest_port = rest_api_port
        self.max_message_bytes = int(max_message_bytes)
        self.grpc_channel_arguments = list(grpc_channel_arguments)
        self.grpc_max_threads = grpc_max_threads or 4 * _cpu_count()
        self.rest_api_num_threads = rest_api_num_threads or 4 * _cpu_count()
        self.poll_seconds = file_system_poll_wait_seconds
        self.model_config_file = model_config_file
        self.config_poll_seconds = model_config_file_poll_wait_seconds
        self.grpc_port: int | None = None
        self.rest_port: int | None = None
        self._grpc_server = None
        self._http_server = None
        self._threads: list[threading.Thread] = []

    def start(self) -> "ModelServer":
        """Loads every model, then opens the ports (returns once serving).

        Raises RuntimeError when a model cannot load (as TF Serving, which exits).
        A model without any version keeps the server waiting, as there.
        """
        self.manager.poll()
        while (failures := self.manager.startup_failures()) is None:
            if self._stopping.wait(max(self.poll_seconds, 0.05)):
                raise RuntimeError("stopped before the models were loaded")
            self.manager.poll()
        if failures:
            raise RuntimeError(
                f"{len(failures)} model(s) did not become available: "
                + ", ".join(failures)
            )
        options = [
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.so_reuseport", 0),
            *self.grpc_channel_arguments,
        ]
        self._grpc_server = grpc.server(
            futures.ThreadPoolExecutor(
                self.grpc_max_threads, thread_name_prefix="grpc"
            ),
            options=options,
            maximum_concurrent_rpcs=self.grpc_max_threads,
        )
        grpc_service.add_services(self._grpc_server, self.manager, self.tensor_content)
        try:
            self.grpc_port = self._grpc_server.add_insecure_port(
                f"{self.host}:{self._port}"
            )
        except RuntimeError as error:
            raise OSError(f"cannot bind gRPC port {self.host}:{self._port}") from error
        if not self.grpc_port:
            raise OSError(f"cannot bind gRPC port {self.host}:{self._port}")
        self._grpc_server.start()
        if self._rest_port != 0:
            self._http_server = rest.make_http_server(
                self.manager,
                self.host,
                self._rest_port or 0,
                num_threads=self.rest_api_num_threads,
                max_body_bytes=self.max_message_bytes,
                timeout_seconds=self.rest_api_timeout_seconds,
            )
            self.rest_port = self._http_server.server_address[1]
            self._spawn(self._http_server.serve_forever, "rest-accept")
        self._spawn(self._poll_loop, "version-poll")
        logger.info(
            "serving %s: gRPC %s:%s, REST %s",
            self.manager.model_names,
            self.host,
            self.grpc_port,
            f"{self.host}:{self.rest_port}" if self.rest_port else "off",
        )
        return self

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _poll_loop(self) -> None:
        reload_config = bool(self.model_config_file) and self.config_poll_seconds > 0
        periods = [self.poll_seconds] if self.poll_seconds > 0 else []
        periods += [self.config_poll_seconds] if reload_config else []
        if not periods:  # poll once (done by start), as TF Serving with 0
            return
        next_config = time.monotonic() + self.config_poll_seconds
        while not self._stopping.wait(min(periods)):
            try:
                if reload_config and time.monotonic() >= next_config:
                    next_config = time.monotonic() + self.config_poll_seconds
                    configs = repository.read_models_config(self.model_config_file)
                    self.manager.set_configs(configs)
                self.manager.poll()
            except Exception:  # a broken config or file system: keep serving
                logger.exception("version poll failed")

    def stop(self, grace: float | None = 1.0) -> None:
        """Stops accepting calls, finishes running ones (up to `grace` s), joins."""
        self._stopping.set()
        if self._http_server is not None:
            self._http_server.shutdown()
            self._http_server.server_close()
        if self._grpc_server is not None:
            self._grpc_server.stop(grace).wait()
        for thread in self._threads:
            thread.join(timeout=10)

    def wait(self) -> None:
        """Blocks until `stop()`."""
        self._stopping.wait()

    def __enter__(self) -> "ModelServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
