"""Tests of hdr_keras.ops.tonemap (mu-law) and hdr_keras.ops.exposure."""

from __future__ import annotations

import math

import numpy as np

from hdr_keras.constants import GAMMA, MU
from hdr_keras.ops.exposure import (
    ev_to_time,
    hdr_to_ldr,
    ldr_to_hdr,
    normalize_ev,
    time_to_ev,
)
from hdr_keras.ops.tonemap import inverse_mu_law, mu_law


def test_mu_law_known_values():
    np.testing.assert_allclose(np.asarray(mu_law([0.0, 1.0])), [0.0, 1.0], atol=1e-6)
    expected = math.log1p(MU * 0.25) / math.log1p(MU)
    np.testing.assert_allclose(float(mu_law(0.25)), expected, rtol=1e-6)


def test_mu_law_round_trip():
    h = np.linspace(0.0, 1.0, 1001, dtype="float32")
    back = np.asarray(inverse_mu_law(mu_law(h)))
    np.testing.assert_allclose(back, h, atol=1e-5, rtol=1e-4)


def test_ev_to_time_and_back():
    assert float(ev_to_time(2.0)) == 4.0
    np.testing.assert_allclose(np.asarray(ev_to_time([-2.0, 0.0])), [0.25, 1.0])
    np.testing.assert_allclose(float(time_to_ev(8.0)), 3.0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(normalize_ev([-2.0, 0.0, 2.0])), [0, 2, 4])


def test_ldr_hdr_round_trip_unclipped():
    rng = np.random.default_rng(0)
    ldr = rng.uniform(0.0, 1.0, (8, 9, 3)).astype("float32")
    t = 4.0
    hdr = np.asarray(ldr_to_hdr(ldr, t))
    np.testing.assert_allclose(hdr, ldr**GAMMA / t, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(hdr_to_ldr(hdr, t)), ldr, atol=1e-5)


def test_hdr_to_ldr_clips():
    ldr = np.asarray(hdr_to_ldr(np.array([0.5, 2.0, -1.0], "float32"), 1.0))
    np.testing.assert_allclose(ldr, [0.5 ** (1 / GAMMA), 1.0, 0.0], atol=1e-6)
