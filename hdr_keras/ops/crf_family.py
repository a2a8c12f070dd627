"""The generated family of camera-like curves behind the built-in CRF basis.

`curve_family()` returns 1750 forward curves and their numerical inverses, all
sampled at x = linspace(0, 1, CRF_SAMPLES), every one strictly increasing from 0
to 1; deterministic (seed CRF_FAMILY_SEED). The family (250 of each kind):
- gamma x^(1/g), g ~ U(1, 3);
- HDRCNN's sigmoid (1 + a) x^n / (x^n + a), n ~ U(0.6, 1.4), a ~ U(0.2, 1.5);
- log curves log(1 + k x) / log(1 + k), k ~ logU(1, 1000);
- filmic curves: the ACES fit of Narkowicz g(y) = y (2.51 y + 0.03) /
  (y (2.43 y + 0.59) + 0.14) at y = s x, normalised by g(s), s ~ logU(0.5, 16);
- sRGB- and Rec. 709-like transfer functions (linear toe, then a power law with
  exponent 1/gamma, gamma ~ U(1.8, 2.8)), 125 each;
- compositions f2(f1(x)) of two members above (toe + shoulder shapes);
- convex mixtures of three members above (smooth in-between shapes).

Also the numerical tools of `hdr_keras.ops.crf`: curve inversion, PCA (randomised
SVD) and least-squares projection onto a basis.
"""

from __future__ import annotations

import functools

import numpy as np

from hdr_keras import constants as C
from hdr_keras.ops.camera import curve_gamma, curve_sigmoid

_FAMILY_SIZE_PER_KIND = 250  # curves of each kind (sRGB/709: half each)
_PCA_OVERSAMPLING = 20  # extra random directions of the randomised SVD
_PCA_POWER_ITERATIONS = 4


def curve_axis() -> np.ndarray:
    """The sample positions x = linspace(0, 1, CRF_SAMPLES) (float64)."""
    return np.linspace(0.0, 1.0, C.CRF_SAMPLES)


def normalise_curves(curve: np.ndarray) -> np.ndarray:
    """Maps curve[..., 0] -> 0 and curve[..., -1] -> 1."""
    low, high = curve[..., :1], curve[..., -1:]
    return (curve - low) / (high - low)


def invert_curves(curves: np.ndarray) -> np.ndarray:
    """Numerical inverses (sampled at x) of increasing curves [N, 1024] from 0 to 1."""
    x = curve_axis()
    return np.stack([np.interp(x, curve, x) for curve in curves])


def _base_curves(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    x = curve_axis()
    gammas = rng.uniform(1.0, 3.0, count)
    curves = [curve_gamma(x[None], gammas[:, None].astype(np.float32)).numpy()]
    n = rng.uniform(0.6, 1.4, count)[:, None].astype(np.float32)
    a = rng.uniform(0.2, 1.5, count)[:, None].astype(np.float32)
    curves.append(curve_sigmoid(x[None], n, a).numpy())
    k = np.exp(rng.uniform(np.log(1.0), np.log(1000.0), count))[:, None]
    curves.append(np.log1p(k * x) / np.log1p(k))
    s = np.exp(rng.uniform(np.log(0.5), np.log(16.0), count))[:, None]
    y = s * x
    curves.append(
        normalise_curves(y * (2.51 * y + 0.03) / (y * (2.43 * y + 0.59) + 0.14))
    )
    # sRGB-like (slope 12.92, break 0.0031308) and Rec. 709-like (4.5, 0.018)
    # transfer functions with exponent 1/gamma: linear toe, then a power law.
    gammas = rng.uniform(1.8, 2.8, count)[:, None]
    half = count // 2
    for rows, (slope, knee) in (
        (slice(0, half), (12.92, 0.0031308)),
        (slice(half, count), (4.5, 0.018)),
    ):
        g = gammas[rows]
        offset = (slope * knee - knee ** (1 / g)) / (knee ** (1 / g) - 1)
        power = (1 + offset) * x ** (1 / g) - offset
        curves.append(np.where(x <= knee, slope * x, power))
    return [normalise_curves(np.asarray(c, dtype=np.float64)) for c in curves]


@functools.lru_cache(maxsize=1)
def curve_family() -> tuple[np.ndarray, np.ndarray]:
    """The generated family of realistic camera curves (see the module docstring).

    Returns:
        (forward [N, 1024], inverse [N, 1024]) float64, every curve strictly
        increasing from exactly 0 to exactly 1; deterministic (seed
        CRF_FAMILY_SEED). Read-only arrays.
    """
    rng = np.random.default_rng(C.CRF_FAMILY_SEED)
    count = _FAMILY_SIZE_PER_KIND
    base = np.concatenate(_base_curves(rng, count))
    x = curve_axis()
    pairs = rng.integers(0, len(base), size=(count, 2))
    composed = np.stack([np.interp(base[i], x, base[j]) for i, j in pairs])
    triples = rng.integers(0, len(base), size=(count, 3))
    mix = rng.dirichlet(np.ones(3), size=count)
    mixed = np.einsum("nk,nkx->nx", mix, base[triples])
    forward = np.concatenate([base, composed, mixed])
    forward = forward[np.all(np.diff(forward, axis=1) > 0, axis=1)]
    forward[:, 0], forward[:, -1] = 0.0, 1.0
    inverse = invert_curves(forward)
    forward.setflags(write=False)
    inverse.setflags(write=False)
    return forward, inverse


def _orthonormalise(matrix: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning `matrix`'s (Gram-Schmidt, applied twice).

    Used instead of np.linalg.qr, whose multi-threaded LAPACK call is orders of
    magnitude slower on a busy machine for these thin matrices."""
    columns = []
    for column in matrix.T:
        for _ in range(2):
            for basis_vector in columns:
                column = column - (basis_vector @ column) * basis_vector
        columns.append(column / np.linalg.norm(column))
    return np.stack(columns, axis=1)


def pca(curves: np.ndarray, num_components: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean [1024], components [K, 1024]) with a deterministic sign convention
    (the largest-magnitude sample of each component is positive)."""
    mean = curves.mean(axis=0)
    centred = curves - mean
    # Randomised SVD (Halko et al. 2011) with power iterations: the spectrum of
    # smooth curves decays fast, so this matches a full SVD to float precision
    # while costing a few thin matrix products instead of an O(1024^3) solve.
    rng = np.random.default_rng(C.CRF_FAMILY_SEED)
    probe = rng.normal(size=(centred.shape[1], num_components + _PCA_OVERSAMPLING))
    subspace = _orthonormalise(centred @ probe)
    for _ in range(_PCA_POWER_ITERATIONS):
        subspace = _orthonormalise(centred.T @ subspace)
        subspace = _orthonormalise(centred @ subspace)
    # SVD of the small projection B = Q^T X through the eigenvectors of B B^T
    # (l x l): right singular vectors V^T = S^-1 U^T B.
    small = subspace.T @ centred
    values, vectors = np.linalg.eigh(small @ small.T)
    order = np.argsort(values)[::-1][:num_components]
    components = (vectors[:, order].T @ small) / np.sqrt(values[order])[:, None]
    peak = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), peak])
    return mean, components * signs[:, None]


def project(curves: np.ndarray, mean: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Least-squares weights [N, K] of (curves - mean) in `basis` [K, 1024]."""
    # Normal equations (K x K): the EMoR components are not exactly orthonormal.
    weights = np.linalg.solve(basis @ basis.T, basis @ (curves - mean).T)
    return weights.T
