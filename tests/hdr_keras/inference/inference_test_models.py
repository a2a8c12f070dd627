"""Tiny models for the inference and serving tests (one convolution; a weighted
frame merge), so that every test runs in well under a second.

Imported by `tests/hdr_keras/inference/conftest.py` and `tests/serving/conftest.py`
through sys.path (conftest modules are not importable under pytest's importlib
import mode), like `tests/compat/weights.py`.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops


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


def helpers():
    """The namespace the `helpers` fixtures return."""
    import types

    return types.SimpleNamespace(
        tiny_single_model=tiny_single_model,
        tiny_stack_model=tiny_stack_model,
        random_ldr=random_ldr,
    )
