"""Fixtures for the serving tests: tiny exported models and a running server.

The models are small on purpose (one convolution; a weighted frame merge, from
`tests/hdr_keras/inference/inference_test_models.py`), so that every server test
runs in well under a second; one test uses the real HDRCNN.
Servers bind 127.0.0.1 on ports picked by the OS (port 0) and are always stopped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from serving.export import export_to_repository
from serving.server.model_server import ModelServer
from serving.server.servables import model_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hdr_keras" / "inference"))
from inference_test_models import (  # noqa: E402
    helpers as _helpers,
    tiny_single_model,
    tiny_stack_model,
)


class Repository:
    """A model repository with models "single" and "stack" (version 1 each)."""

    def __init__(self, base: Path):
        self.base = base
        self.single_model = tiny_single_model()
        self.stack_model = tiny_stack_model()
        self.single_path = export_to_repository(self.single_model, base, "single")
        self.stack_path = export_to_repository(self.stack_model, base, "stack")
        self._local = {}

    def local(self, name: str, signature: str = "serving_default"):
        """The signature of the exported SavedModel, loaded in this process."""
        if name not in self._local:
            path = self.single_path if name == "single" else self.stack_path
            self._local[name] = tf.saved_model.load(str(path))
        return self._local[name].signatures[signature]

    def expected(self, name: str, inputs: dict) -> dict[str, np.ndarray]:
        outputs = self.local(name)(**{k: tf.constant(v) for k, v in inputs.items()})
        return {key: value.numpy() for key, value in outputs.items()}

    def configs(self):
        return [
            model_config("single", self.base / "single"),
            model_config("stack", self.base / "stack"),
        ]


@pytest.fixture(scope="session")
def repository(tmp_path_factory) -> Repository:
    return Repository(tmp_path_factory.mktemp("repository"))


@pytest.fixture(scope="module")
def server(repository):
    """A running server over the repository: gRPC and REST on free ports."""
    instance = ModelServer(
        repository.configs(),
        port=0,
        rest_api_port=None,
        file_system_poll_wait_seconds=0.2,
        grpc_max_threads=8,
        rest_api_num_threads=8,
    ).start()
    try:
        yield instance
    finally:
        instance.stop(grace=None)


@pytest.fixture
def grpc_target(server) -> str:
    return f"127.0.0.1:{server.grpc_port}"


@pytest.fixture
def rest_url(server) -> str:
    return f"http://127.0.0.1:{server.rest_port}"


@pytest.fixture(scope="session")
def helpers():
    """Model builders and data helpers for the test modules (conftest is not
    importable under pytest's importlib import mode): `inference_test_models`."""
    return _helpers()
