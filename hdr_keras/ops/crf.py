"""Camera response curves (CRFs): PCA bases, random curves, monotone curves in TF.

A curve maps [0, 1] to [0, 1] and is stored as CRF_SAMPLES (1024) samples at
x = linspace(0, 1, 1024). The forward curve f maps linear irradiance to display
values; its inverse g = f^-1 maps display values back to linear (SingleHDR's
Linearization-Net predicts g, METHODS.md section 5).

Bases (`CurveBasis`):
- EMoR (Grossberg & Nayar 2004): `load_emor(dir)` reads `emor.txt` (f0, h(1..25))
  and `invemor.txt` (g0, hinv(1..25)), the files SingleHDR's official code uses.
- Built-in: `builtin_basis()` is a PCA of a generated family of 1750 camera-like
  curves (`hdr_keras.ops.crf_family`: gamma, HDRCNN's sigmoid, log, filmic,
  sRGB/Rec. 709-like, their compositions and mixtures), so the method works
  without any file.
  Forward curves are the members; inverse curves are their numerical inverses.
  `default_basis()` picks: a directory argument > $HDR_KERAS_EMOR_DIR > built-in.
  The built-in basis is cached in $HDR_KERAS_CACHE (`hdr_keras.ops.crf_cache`).

Random curves (`sample_curves`) draw PCA weights of the forward basis within the
spread the family has in that basis, build a monotone curve and invert it.

TF ops for the networks: `monotone_curve_from_weights` (PCA weights -> increasing
curve from 0 to 1, exactly METHODS.md section 5) and `apply_curve` (linear
interpolation at x * 1023, differentiable w.r.t. the image and the curve).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import numpy as np
import tensorflow as tf
from absl import logging

from hdr_keras import constants as C
from hdr_keras.ops.crf_cache import cached_basis_arrays
from hdr_keras.ops.crf_family import (
    curve_axis,
    curve_family,
    invert_curves,
    normalise_curves,
    pca,
    project,
)

EMOR_ENV = "HDR_KERAS_EMOR_DIR"
EMOR_FILES = ("emor.txt", "invemor.txt")
_INVERSION_EPS = 1e-6  # ramp that makes flat curve segments strictly increasing


@dataclasses.dataclass(frozen=True)
class CurveBasis:
    """Mean curves and principal components of forward and inverse camera curves.

    All curves are sampled at x = linspace(0, 1, 1024).

    Attributes:
        inverse_mean: g0 [1024], mean inverse curve (display -> linear).
        inverse_basis: hinv [K, 1024], its principal components.
        forward_mean: f0 [1024], mean forward curve (linear -> display).
        forward_basis: h [K, 1024], its principal components.
        source: "emor:<dir>" or "builtin".
        forward_weight_std: [K] standard deviation of the weights of realistic
            forward curves in `forward_basis` (used by `sample_curves`).
        forward_weight_range: [2, K] their minimum and maximum.
    """

    inverse_mean: np.ndarray
    inverse_basis: np.ndarray
    forward_mean: np.ndarray
    forward_basis: np.ndarray
    source: str
    forward_weight_std: np.ndarray | None = None
    forward_weight_range: np.ndarray | None = None

    def __post_init__(self):
        # Read-only float32 copies: bases are cached and shared between callers.
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name != "source" and value is not None:
                array = np.array(value, dtype=np.float32)
                array.setflags(write=False)
                object.__setattr__(self, field.name, array)
        k = self.inverse_basis.shape[0]
        for name, shape in (
            ("inverse_mean", (C.CRF_SAMPLES,)),
            ("forward_mean", (C.CRF_SAMPLES,)),
            ("inverse_basis", (k, C.CRF_SAMPLES)),
            ("forward_basis", (k, C.CRF_SAMPLES)),
        ):
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(
                    f"CurveBasis({self.source}): {name} must have shape {shape}, "
                    f"got {np.shape(getattr(self, name))}"
                )

    @property
    def num_components(self) -> int:
        """K, the number of principal components."""
        return int(self.inverse_basis.shape[0])

    def truncated(self, num_components: int) -> "CurveBasis":
        """The first `num_components` components (the weight statistics follow)."""
        if not 1 <= num_components <= self.num_components:
            raise ValueError(
                f"num_components must be in [1, {self.num_components}] for the "
                f"{self.source} basis, got {num_components}"
            )
        k = num_components
        return dataclasses.replace(
            self,
            inverse_basis=self.inverse_basis[:k],
            forward_basis=self.forward_basis[:k],
            forward_weight_std=(
                None if self.forward_weight_std is None else self.forward_weight_std[:k]
            ),
            forward_weight_range=(
                None
                if self.forward_weight_range is None
                else self.forward_weight_range[:, :k]
            ),
        )


# ------------------------------------------------------------------------- EMoR
def _read_emor_blocks(path: Path) -> dict[str, np.ndarray]:
    """Blocks "name = <1024 numbers>" of an EMoR text file, in file order."""
    if not path.is_file():
        raise FileNotFoundError(f"EMoR file not found: {path}")
    blocks: dict[str, list[float]] = {}
    current = None
    with open(path, encoding="ascii", errors="replace") as stream:
        for number, line in enumerate(stream, 1):
            line = line.strip()
            if not line:
                continue
            if "=" in line:
                current = line.split("=", 1)[0].strip()
                if current in blocks:
                    raise ValueError(f"{path}:{number}: block {current!r} repeated")
                blocks[current] = []
                line = line.split("=", 1)[1].strip()
                if not line:
                    continue
            if current is None:
                raise ValueError(f"{path}:{number}: values before the first header")
            try:
                blocks[current].extend(float(value) for value in line.split())
            except ValueError:
                raise ValueError(
                    f"{path}:{number}: not a list of numbers: {line[:60]!r}"
                ) from None
    arrays = {}
    for name, values in blocks.items():
        if len(values) != C.CRF_SAMPLES:
            raise ValueError(
                f"{path}: block {name!r} has {len(values)} values, expected "
                f"{C.CRF_SAMPLES}"
            )
        arrays[name] = np.asarray(values, dtype=np.float64)
    return arrays


def _emor_parts(path: Path, axis: str, mean: str, component: str):
    blocks = _read_emor_blocks(path)
    names = [axis, mean] + [
        f"{component}({i})" for i in range(1, C.EMOR_NUM_COMPONENTS + 1)
    ]
    if list(blocks) != names:
        raise ValueError(
            f"{path}: expected blocks {names[0]}, {names[1]}, {names[2]} .. "
            f"{names[-1]} ({len(names)}), found {list(blocks)[:4]}... ({len(blocks)})"
        )
    if not np.allclose(blocks[axis], curve_axis(), atol=1e-5):
        raise ValueError(f"{path}: axis {axis!r} is not linspace(0, 1, 1024)")
    return blocks[mean], np.stack([blocks[name] for name in names[2:]])


def load_emor(
    directory: str | os.PathLike, num_components: int = C.CRF_NUM_COMPONENTS
) -> CurveBasis:
    """Reads Grossberg & Nayar's EMoR model from `directory`.

    `emor.txt` holds 27 blocks, each a header line and 1024 values (256 lines of
    4): "E =" (the axis 0..1), "f0 =" (mean forward curve), "h(1)=" .. "h(25)=";
    `invemor.txt` the same for the inverse: "B =", "g0 =", "hinv(1)=" ..
    "hinv(25)=". The first `num_components` (<= 25) components are kept.

    The files carry no statistics of curve weights, so the spread used by
    `sample_curves` is that of the built-in curve family projected onto h.

    Raises FileNotFoundError or ValueError naming the file on a missing file or a
    malformed block.
    """
    directory = Path(directory)
    stamps = tuple(
        (directory / name).stat().st_mtime_ns if (directory / name).is_file() else 0
        for name in EMOR_FILES
    )
    return _load_emor_all(str(directory), stamps).truncated(num_components)


@functools.lru_cache(maxsize=4)
def _load_emor_all(directory: str, stamps: tuple[int, int]) -> CurveBasis:
    """All 25 components of the EMoR files in `directory`, parsed once per
    modification times `stamps` of the two files."""
    directory = Path(directory)
    f0, h = _emor_parts(directory / EMOR_FILES[0], "E", "f0", "h")
    g0, hinv = _emor_parts(directory / EMOR_FILES[1], "B", "g0", "hinv")
    weights = project(curve_family()[0], f0, h)
    basis = CurveBasis(
        inverse_mean=g0.astype(np.float32),
        inverse_basis=hinv.astype(np.float32),
        forward_mean=f0.astype(np.float32),
        forward_basis=h.astype(np.float32),
        source=f"emor:{directory}",
        forward_weight_std=weights.std(axis=0).astype(np.float32),
        forward_weight_range=np.stack([weights.min(0), weights.max(0)]).astype(
            np.float32
        ),
    )
    return basis


# ------------------------------------------------------------- built-in basis


@functools.lru_cache(maxsize=8)
def builtin_basis(num_components: int = C.CRF_NUM_COMPONENTS) -> CurveBasis:
    """PCA basis of the generated curve family (`curve_family`); no files needed.

    Forward and inverse bases are separate PCAs of the family's forward curves and
    of their inverses. Deterministic; cached in the process and on disk in
    $HDR_KERAS_CACHE (`hdr_keras.ops.crf_cache`), so only the first process builds it.
    """
    if not 1 <= num_components <= C.EMOR_NUM_COMPONENTS:
        raise ValueError(
            f"num_components must be in [1, {C.EMOR_NUM_COMPONENTS}], "
            f"got {num_components}"
        )
    arrays = cached_basis_arrays(
        num_components, functools.partial(_build_builtin_basis, num_components)
    )
    return CurveBasis(source="builtin", **arrays)


def _build_builtin_basis(num_components: int) -> dict[str, np.ndarray]:
    """The arrays of `builtin_basis(num_components)`, computed from the family."""
    forward, inverse = curve_family()
    f0, h = pca(forward, num_components)
    g0, hinv = pca(inverse, num_components)
    weights = project(forward, f0, h)
    arrays = dict(
        inverse_mean=g0,
        inverse_basis=hinv,
        forward_mean=f0,
        forward_basis=h,
        forward_weight_std=weights.std(axis=0),
        forward_weight_range=np.stack([weights.min(0), weights.max(0)]),
    )
    return {name: value.astype(np.float32) for name, value in arrays.items()}


def default_basis(
    directory: str | os.PathLike | None = None,
    num_components: int = C.CRF_NUM_COMPONENTS,
) -> CurveBasis:
    """The EMoR basis from `directory`, else from $HDR_KERAS_EMOR_DIR, else the
    built-in one; logs which. A directory that is given but lacks the files is an
    error (no silent fallback)."""
    if directory:
        basis = load_emor(directory, num_components)
    elif os.environ.get(EMOR_ENV):
        try:
            basis = load_emor(os.environ[EMOR_ENV], num_components)
        except (FileNotFoundError, ValueError) as error:
            raise type(error)(f"${EMOR_ENV}: {error}") from None
    else:
        basis = builtin_basis(num_components)
    logging.info("camera-curve basis: %s (%d components)", basis.source, num_components)
    return basis


# ------------------------------------------------------------- random curves
def sample_curves(
    rng: np.random.Generator,
    basis: CurveBasis,
    count: int,
    spread: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Random camera curves drawn from `basis`.

    Forward-basis weights w_k ~ N(0, (spread * std_k)^2), clipped to the range
    [min_k, max_k] the curve family has in that basis (`CurveBasis.forward_weight_*`),
    give f0 + w h, made monotone by `monotone_curve_from_weights`; the inverse is its
    numerical inverse. A tiny ramp (1e-6 x) keeps the forward curve strictly
    increasing so that both are exact inverses up to interpolation.

    Args:
        rng: numpy Generator (the only source of randomness).
        basis: a `CurveBasis` with weight statistics (`load_emor`/`builtin_basis`).
        count: number of curves.
        spread: scale of the weight standard deviations (1 = the family's).

    Returns:
        (forward [count, 1024], inverse [count, 1024]) float32, increasing, from
        exactly 0 to exactly 1.
    """
    if basis.forward_weight_std is None or basis.forward_weight_range is None:
        raise ValueError(
            f"basis {basis.source} has no weight statistics; build it with "
            "load_emor / builtin_basis"
        )
    std = spread * np.asarray(basis.forward_weight_std, dtype=np.float64)
    low, high = np.asarray(basis.forward_weight_range, dtype=np.float64)
    weights = np.clip(rng.normal(size=(count, basis.num_components)) * std, low, high)
    forward = monotone_curve_from_weights(
        weights.astype(np.float32), basis.forward_mean, basis.forward_basis
    ).numpy()
    x = curve_axis()
    forward = normalise_curves((forward.astype(np.float64) + _INVERSION_EPS * x))
    inverse = invert_curves(forward)
    return forward.astype(np.float32), inverse.astype(np.float32)


# ---------------------------------------------------------------- TF ops
def monotone_curve_from_weights(weights, mean, basis) -> tf.Tensor:
    """PCA weights -> increasing curves from 0 to 1 (SingleHDR, METHODS.md §5).

    curve = mean + weights @ basis; differences d of the curve; d += relu(-min d);
    d /= sum d; cumulative sum; prepend 0. A curve whose shifted differences are all
    0 (a constant curve) becomes the identity.

    Args:
        weights: [B, K] float tensor.
        mean: [1024] mean curve (e.g. `CurveBasis.inverse_mean`).
        basis: [K, 1024] components (e.g. `CurveBasis.inverse_basis`).

    Returns:
        [B, 1024] in weights' dtype: non-decreasing, first sample 0, last 1 (up to
        float rounding of the cumulative sum).
    """
    weights = tf.convert_to_tensor(weights)
    if not weights.dtype.is_floating:
        weights = tf.cast(weights, tf.float32)
    mean = tf.cast(mean, weights.dtype)
    basis = tf.cast(basis, weights.dtype)
    if weights.shape.rank != 2 or basis.shape.rank != 2 or mean.shape.rank != 1:
        raise ValueError(
            "monotone_curve_from_weights: weights must be [B, K], mean [S] and "
            f"basis [K, S]; got {weights.shape}, {mean.shape}, {basis.shape}"
        )
    if weights.shape[-1] is not None and weights.shape[-1] != basis.shape[0]:
        raise ValueError(
            f"monotone_curve_from_weights: weights have {weights.shape[-1]} "
            f"components, basis has {basis.shape[0]}"
        )
    curve = mean[None, :] + tf.matmul(weights, basis)
    d = curve[:, 1:] - curve[:, :-1]
    d = d + tf.nn.relu(-tf.reduce_min(d, axis=1, keepdims=True))
    total = tf.reduce_sum(d, axis=1, keepdims=True)
    uniform = tf.ones_like(d) / tf.cast(tf.shape(d)[1], d.dtype)
    d = tf.where(total > 0, d / tf.where(total > 0, total, 1.0), uniform)
    cumulative = tf.cumsum(d, axis=1)
    return tf.concat([tf.zeros_like(cumulative[:, :1]), cumulative], axis=1)


def apply_curve(image, curve) -> tf.Tensor:
    """Applies sampled curves to an image by linear interpolation at x * (S - 1).

    As SingleHDR's `apply_rf`: values are clipped to [0, 1], position p = x (S - 1),
    result = curve[floor p] (1 - frac) + curve[floor p + 1] frac. Differentiable
    w.r.t. the image (inside [0, 1]) and the curve samples.

    Args:
        image: [B, H, W, C] (or any [B, ...]) values in [0, 1].
        curve: [B, S] one curve per image, or [S] for all images (S = 1024 for the
            curves of this module).

    Returns:
        Tensor of image's shape and dtype.
    """
    image = tf.convert_to_tensor(image)
    curve = tf.cast(curve, image.dtype)
    samples = tf.shape(curve)[-1]
    last = tf.cast(samples - 1, image.dtype)
    position = tf.clip_by_value(image, 0.0, 1.0) * last
    index = tf.clip_by_value(tf.floor(position), 0.0, last - 1.0)
    fraction = position - index
    index = tf.cast(index, tf.int32)
    if curve.shape.rank == 1:
        low = tf.gather(curve, index)
        high = tf.gather(curve, index + 1)
    else:
        batch = tf.shape(image)[0]
        flat = tf.reshape(index, tf.stack([batch, -1]))
        low = tf.reshape(tf.gather(curve, flat, batch_dims=1), tf.shape(image))
        high = tf.reshape(tf.gather(curve, flat + 1, batch_dims=1), tf.shape(image))
    return low + fraction * (high - low)
