"""Fixtures shared by the flow and alignment tests (conftest is not importable under
pytest's importlib import mode, so helpers are handed out as fixtures)."""

from __future__ import annotations

import numpy as np
import pytest


def _texture(y, x, seed=0):
    """Analytic band-limited texture in [0, 1], exact at any real (y, x)."""
    rng = np.random.default_rng(seed)
    out = np.full(np.broadcast(y, x).shape, 0.5)
    for _ in range(12):
        k = 2 * np.pi / rng.uniform(6.0, 16.0)
        theta, phase = rng.uniform(0, 2 * np.pi, 2)
        out += 0.035 * np.sin(k * (y * np.cos(theta) + x * np.sin(theta)) + phase)
    return out.astype(np.float32)


@pytest.fixture
def texture():
    """`_texture(y, x, seed=0)`: analytic band-limited texture in [0, 1]."""
    return _texture
