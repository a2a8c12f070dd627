"""Deterministic, well-scaled weights for any model (the same on every machine).

Used to compare a model's outputs across code versions without storing weights:
`set_deterministic_weights(model)` gives every trainable variable (and batch-norm
statistics) a value from its index and shape alone. Kernels get a He-like scale
(sqrt(2 / fan_in)) so deep networks neither explode nor vanish; batch-norm scales
and variances stay near 1. Non-trainable variables other than batch-norm
statistics (e.g. SingleHDR's camera-curve basis) keep the values the builder gave.
"""

from __future__ import annotations

import numpy as np


def _pattern(index: int, size: int) -> np.ndarray:
    """Values in [-1, 1]: a sine of an irrational step, phase set by the index."""
    return np.sin(np.arange(size, dtype=np.float64) * 0.6180339887 + 1.3 * index)


def deterministic_value(index: int, path: str, shape: tuple[int, ...]) -> np.ndarray:
    size = int(np.prod(shape)) if shape else 1
    wave = _pattern(index, size).reshape(shape)
    leaf = path.rsplit("/", 1)[-1]
    if leaf in ("moving_variance", "variance"):
        value = 1.0 + 0.25 * np.abs(wave)
    elif leaf == "gamma":
        value = 1.0 + 0.1 * wave
    elif len(shape) >= 2:
        fan_in = int(np.prod(shape[:-1]))
        value = np.sqrt(2.0 / max(fan_in, 1)) * wave
    else:  # biases, betas, means
        value = 0.05 * wave
    return value.astype(np.float32)


def learned_variables(model) -> list[tuple[int, object]]:
    """(index in model.weights, variable) of the trainable variables and the
    batch-norm statistics: what training changes."""
    return [
        (index, variable)
        for index, variable in enumerate(model.weights)
        if variable.trainable
        or variable.path.rsplit("/", 1)[-1] in ("moving_mean", "moving_variance")
    ]


def set_deterministic_weights(model) -> None:
    """Overwrites the learned variables in place."""
    for index, variable in learned_variables(model):
        variable.assign(deterministic_value(index, variable.path, tuple(variable.shape)))


def zero_weights(model) -> None:
    """Sets the learned variables to zero (the rest keep the builder's values)."""
    for _, variable in learned_variables(model):
        variable.assign(np.zeros(tuple(variable.shape), np.float32))
