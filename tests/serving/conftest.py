"""Fixtures for the serving tests: tiny exported models and a running server.

The models are small on purpose (one convolution; a weighted frame merge), so that
every server test runs in well under a second; one test uses the real HDRCNN.
Servers bind 127.0.0.1 on ports picked by the OS (port 0) and are always stopped.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers, ops

from serving.export import export_to_repository
from serving.servables import model_config
from serving.server import ModelServer


@keras.saving.register_keras_serializable(package="hdr_keras_serving_tests")
class ServingTestFrameMerge(layers.Layer):
    """Test-only stack merge: frames linearised and weighted by 2 ** -exposure."""

    def call(self, ldr, exposure):
        weights = ops.power(2.0, -exposure)[:, :, None, None, None]
        return ops.sum(ops.power(ldr, 2.2) * weights, axis=1) / ops.sum(weights, axis=1)


def tiny_single_model(seed: int = 1) -> keras.Model:
    keras.utils.set_random_seed(seed)
    ldr = keras.Input((None, None, 3), name="ldr")
    hdr = layers.Conv2D(3, 3, padding="same", activation="softplus")(ldr)
    return keras.Model(ldr, hdr, name="tiny_single")


def tiny_stack_model(seed: int = 2) -> keras.Model:
    keras.utils.set_random_seed(seed)
    ldr = keras.Input((None, None, None, 3), name="ldr")
    exposure = keras.Input((None,), name="exposure")
    merged = ServingTestFrameMerge()(ldr, exposure)
    hdr = layers.Conv2D(3, 1, activation="softplus")(merged)
    return keras.Model({"ldr": ldr, "exposure": exposure}, hdr, name="tiny_stack")


def random_ldr(*shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, shape).astype(np.float32)


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
    importable under pytest's importlib import mode)."""
    import types

    return types.SimpleNamespace(
        tiny_single_model=tiny_single_model,
        tiny_stack_model=tiny_stack_model,
        random_ldr=random_ldr,
    )
