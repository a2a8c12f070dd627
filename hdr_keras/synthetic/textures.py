"""Procedural textures for the synthetic HDR scenes: periodic noise and albedo tiles.

A texture is a periodic square tile generated from a :class:`TextureSpec` alone, so the
same spec gives the same pattern at every output resolution (only the number of fine
noise octaves that fit into the tile grows with it). Tiles are sampled at arbitrary
coordinates with ``cv2.remap`` and a small mip pyramid, which serves rotated sprites,
perspective floors and sub-pixel camera shifts alike.

Values are linear albedos in (0, 1) per RGB channel, except for the ``"fbm"`` kind,
a single-channel noise field with zero mean and unit standard deviation.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import cv2
import numpy as np

Color = tuple[float, float, float]

TEXTURE_KINDS = (
    "plain",
    "noise",
    "stripes",
    "bricks",
    "checker",
    "planks",
    "marble",
    "grass",
    "bark",
    "windows",
    "fbm",
)
MIN_TILE = 16
MAX_TILE = 512


@dataclasses.dataclass(frozen=True)
class TextureSpec:
    """A procedural albedo pattern, periodic with period ``period``.

    Attributes:
        kind: one of ``TEXTURE_KINDS``.
        seed: seed of the pattern's own random numbers.
        color_a: main linear albedo (bricks, planks, first stripe colour, wall).
        color_b: secondary linear albedo (mortar, grout, second colour, glass tint).
        period: tile size in the owner's units (object sizes for sprites, metres for
            planes).
        angle: rotation of the pattern in radians.
        variation: strength of per-element and noise colour variation, in [0, 1].
    """

    kind: str
    seed: int
    color_a: Color = (0.5, 0.5, 0.5)
    color_b: Color = (0.2, 0.2, 0.2)
    period: float = 1.0
    angle: float = 0.0
    variation: float = 0.5


def _periodic_upsample(lattice: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bicubic upsampling of a periodic [ny, nx] array by integer factors to shape."""
    ny, nx = lattice.shape
    my, mx = shape[0] // ny, shape[1] // nx
    if my == mx == 1:
        return lattice
    pad = 2
    padded = np.pad(lattice, pad, mode="wrap")
    big = cv2.resize(
        padded,
        (padded.shape[1] * mx, padded.shape[0] * my),
        interpolation=cv2.INTER_CUBIC,
    )
    return big[pad * my : pad * my + shape[0], pad * mx : pad * mx + shape[1]]


@functools.lru_cache(maxsize=64)
def fbm_tile(
    seed: int,
    size: int,
    base: int = 4,
    octaves: int = 7,
    gain: float = 0.55,
    stretch: int = 1,
) -> np.ndarray:
    """Periodic multi-octave value noise [size, size], zero mean, unit std.

    Octave k is a lattice of ``base * 2**k`` random values along y (``stretch`` times
    fewer along x, for grain). Octaves are summed coarse to fine, upsampling the sum
    by two (bicubic, periodic) before adding the next lattice. Every lattice is drawn
    whatever ``size`` is, so the random stream, hence the coarse pattern, does not
    depend on the resolution; octaves finer than two pixels per cell are left out.
    """
    rng = np.random.default_rng(seed)
    acc = None
    amp = 1.0
    for k in range(octaves):
        ny = base * 2**k
        lattice = rng.random((ny, max(2, ny // stretch)), dtype=np.float32)
        if ny <= size // 2:
            lattice *= np.float32(amp)
            acc = (
                lattice
                if acc is None
                else _periodic_upsample(acc, lattice.shape) + lattice
            )
        amp *= gain
    if acc is None:  # the tile is too small for even the coarsest octave
        acc = np.zeros((size, size), np.float32)
    acc = _periodic_upsample(acc, (size, size)).astype(np.float32)
    acc -= acc.mean()
    acc /= acc.std() + np.float32(1e-6)
    acc.setflags(write=False)
    return acc


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    c = ((np.arange(size, dtype=np.float32) + 0.5) / size).astype(np.float32)
    return c[:, None], c[None, :]


def _jitter(rng: np.random.Generator, n: int, amount: float) -> np.ndarray:
    """[3, n] multiplicative colour jitter: a brightness factor and a small tint."""
    gain = 1.0 + amount * rng.uniform(-0.45, 0.45, (1, n))
    tint = 1.0 + 0.35 * amount * rng.uniform(-0.3, 0.3, (3, n))
    return (gain * tint).astype(np.float32)


def _cells(
    ty: np.ndarray, tx: np.ndarray, rows: int, cols: int, shift: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row/column indices and in-cell fractions [S, S] of a brick-like grid."""
    fy = ty * rows
    row = np.floor(fy).astype(np.int32)
    fx = (tx + shift * (row % 2) / cols) * cols
    col = np.floor(fx).astype(np.int32) % cols
    row, col, fy, fx = np.broadcast_arrays(row, col, fy, fx)
    return row, col, fy - np.floor(fy), fx - np.floor(fx)


def _albedo_tile(spec: TextureSpec, size: int) -> np.ndarray:
    """The channel-first [3, size, size] albedo tile of ``spec`` ([size, size] for
    the "fbm" kind)."""
    kind = spec.kind
    if kind == "fbm":
        return fbm_tile(spec.seed, size)
    rng = np.random.default_rng(spec.seed + 7919)
    a = np.asarray(spec.color_a, np.float32).reshape(3, 1, 1)
    b = np.asarray(spec.color_b, np.float32).reshape(3, 1, 1)
    var = np.float32(spec.variation)
    ty, tx = _grid(size)
    z = fbm_tile(spec.seed, size)
    if kind == "plain":
        out = a * (1.0 + 0.12 * var * z)
    elif kind == "noise":
        m = _smoothstep(-1.3, 1.3, z)
        fine = fbm_tile(spec.seed + 1, size, base=16, octaves=5)
        out = (a + (b - a) * m) * (1.0 + 0.1 * var * fine)
    elif kind == "stripes":
        n = int(rng.integers(3, 9))
        edges = np.cumsum(rng.uniform(0.5, 1.5, n))
        edges = (edges / edges[-1]).astype(np.float32)
        idx = np.minimum(np.searchsorted(edges, tx[0]), n - 1)
        mix = rng.choice(np.array([0.0, 1.0, 0.5, 0.0, 1.0], np.float32), n)
        shade = 1.0 + var * rng.uniform(-0.3, 0.3, n).astype(np.float32)
        colors = (a[:, 0] * (1 - mix) + b[:, 0] * mix) * shade  # [3, n]
        out = colors[:, idx][:, None, :] * (1.0 + 0.06 * var * z)
    elif kind in ("bricks", "checker"):
        rows, cols, shift = (4, 2, 0.5) if kind == "bricks" else (4, 4, 0.0)
        row, col, fy, fx = _cells(ty, tx, rows, cols, shift)
        jit = _jitter(rng, rows * cols, float(var))[:, row * cols + col]
        if kind == "checker":
            parity = ((row + col) % 2).astype(np.float32)
            base = a + (b - a) * parity
            line, grout = 0.012, 0.5 * (a + b) * 0.45
        else:
            base, line, grout = a, float(rng.uniform(0.015, 0.035)), b
        mortar = np.minimum(
            np.minimum(fy, 1 - fy) / rows, np.minimum(fx, 1 - fx) / cols
        )
        edge = (mortar < line).astype(np.float32)
        bevel = np.clip(mortar / (3 * line), 0.0, 1.0)
        face = base * jit * ((0.8 + 0.2 * bevel) * (1.0 + 0.1 * var * z))
        out = face + (grout * (1.0 + 0.1 * z) - face) * edge
    elif kind == "planks":
        n = 4
        row = np.floor(ty * n).astype(np.int32)
        joints = rng.uniform(0, 1, n).astype(np.float32)
        fy = ty * n - row
        jx = np.abs(((tx - joints[row] + 0.5) % 1.0) - 0.5)
        plank = row * 2 + (((tx - joints[row]) % 1.0) > 0.5)
        grain = fbm_tile(spec.seed + 2, size, base=8, octaves=6, stretch=8)
        jit = _jitter(rng, 2 * n, float(var))[:, plank]
        gap = (np.minimum(fy, 1 - fy) < 0.03) | (jx < 0.004)
        face = a * jit * ((1.0 + 0.22 * grain) * (1.0 + 0.05 * z))
        out = np.where(gap, b, face)
    elif kind == "marble":
        veins = (1.0 - np.abs(np.sin(np.pi * (2 * tx + ty + 0.9 * z)))) ** 6
        out = a * (1.0 + 0.08 * z) * (1 - veins) + b * veins
    elif kind in ("grass", "bark"):
        # Noise elongated along y: blades of grass, ridges of bark.
        base, stretch = (32, 4) if kind == "grass" else (8, 8)
        blades = fbm_tile(spec.seed + 3, size, base=base, octaves=5, stretch=stretch).T
        if kind == "bark":
            blades = 1.0 - 2.0 * np.abs(blades)
        m = _smoothstep(-1.5, 1.5, z + 0.8 * blades)
        out = (a + (b - a) * m) * (1.0 + 0.25 * var * blades)
    elif kind == "windows":
        row, col, fy, fx = _cells(ty, tx, 4, 4)
        mx, my = float(rng.uniform(0.18, 0.32)), float(rng.uniform(0.15, 0.3))
        inside = (fx > mx) & (fx < 1 - mx) & (fy > my) & (fy < 1 - my * 0.7)
        frame = (fx > mx - 0.05) & (fx < 1 - mx + 0.05) & (fy > my - 0.05)
        frame &= fy < 1 - my * 0.7 + 0.05
        glass_kind = rng.choice(3, 16, p=[0.55, 0.3, 0.15])[row * 4 + col]
        dark = np.float32(0.012) * (1.0 + 0.3 * z)
        glass = np.where(
            glass_kind == 0, dark, np.where(glass_kind == 1, 0.25 * b + 0.05, b * 0.7)
        )
        wall = a * (1.0 + 0.12 * var * z)
        out = np.where(inside, glass, np.where(frame, 0.6 * wall, wall))
    else:
        raise ValueError(f"unknown texture kind {kind!r}; valid: {TEXTURE_KINDS}")
    return np.clip(out, 0.003, 0.95).astype(np.float32)


@functools.lru_cache(maxsize=32)
def _atlas(spec: TextureSpec, size: int):
    """Mip levels size, size/2, ... 2 (box filtered) packed in one channel-first atlas.

    Each level is padded by one wrapped texel, so a bilinear lookup never leaves its
    level. Returns (planes [C, Ha, Wa], origin_y [L], origin_x [L], sizes [L]).
    """
    tile = _albedo_tile(spec, size)
    levels = [tile[None] if tile.ndim == 2 else tile]
    while levels[-1].shape[1] > 2:
        s = levels[-1].shape[1] // 2
        levels.append(
            np.stack(
                [
                    cv2.resize(c, (s, s), interpolation=cv2.INTER_AREA)
                    for c in levels[-1]
                ]
            )
        )
    small = sum(level.shape[1] + 2 for level in levels[1:])
    width = size + 2 + (levels[1].shape[1] + 2 if len(levels) > 1 else 0)
    atlas = np.zeros((len(levels[0]), max(size + 2, small), width), np.float32)
    oy, ox, sizes, y = [], [], [], 0
    for k, level in enumerate(levels):
        s = level.shape[1]
        padded = np.pad(level, ((0, 0), (1, 1), (1, 1)), mode="wrap")
        y0, x0 = (0, 0) if k == 0 else (y, size + 2)
        atlas[:, y0 : y0 + s + 2, x0 : x0 + s + 2] = padded
        if k > 0:
            y += s + 2
        oy.append(y0 + 1)
        ox.append(x0 + 1)
        sizes.append(s)
    atlas.setflags(write=False)
    tables = (
        np.array(oy, np.float32),
        np.array(ox, np.float32),
        np.array(sizes, np.float32),
    )
    return atlas, *tables


def _remap(atlas: np.ndarray, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """Bilinear lookup [C, n] of 1-D atlas pixel coordinates (folded into rows of
    1024: cv2.remap wants 2-D maps under 32767 pixels a side)."""
    n = mx.size
    rows = -(-n // 1024)
    pad = rows * 1024 - n
    if pad:
        mx = np.concatenate([mx, np.zeros(pad, np.float32)])
        my = np.concatenate([my, np.zeros(pad, np.float32)])
    mx = np.ascontiguousarray(mx, np.float32).reshape(rows, 1024)
    my = np.ascontiguousarray(my, np.float32).reshape(rows, 1024)
    out = np.empty((atlas.shape[0], rows * 1024), np.float32)
    for c, plane in enumerate(atlas):
        cv2.remap(
            plane,
            mx,
            my,
            cv2.INTER_LINEAR,
            dst=out[c].reshape(rows, 1024),
            borderMode=cv2.BORDER_REPLICATE,
        )
    return out[:, :n] if pad else out


def _sample_levels(spec: TextureSpec, pu, pv, fp) -> np.ndarray:
    """Trilinear (mip-blended) lookup [C, n] of periodic coordinates in [0, 1)."""
    fmin = max(float(np.min(fp)), 1e-6)
    size = int(np.clip(2 ** math.ceil(math.log2(1.0 / fmin)), MIN_TILE, MAX_TILE))
    atlas, oy, ox, sizes = _atlas(spec, size)
    top = len(sizes) - 1
    level = np.minimum(np.log2(np.maximum(fp * np.float32(size), 1.0)), top)
    lo = level.astype(np.int32)  # level >= 0: truncation is floor
    frac = (level - lo).astype(np.float32)
    hi = np.minimum(lo + 1, top)
    vals = []
    for lev in (lo, hi):
        s = sizes[lev]
        vals.append(_remap(atlas, ox[lev] + pu * s - 0.5, oy[lev] + pv * s - 0.5))
        if not np.any(frac):
            return vals[0]
    return vals[0] + (vals[1] - vals[0]) * frac


def sample_texture(
    spec: TextureSpec,
    u: np.ndarray,
    v: np.ndarray,
    footprint: float | np.ndarray,
) -> np.ndarray:
    """Sample ``spec`` at owner coordinates (u, v) (arrays of equal shape).

    Args:
        spec: the texture.
        u, v: horizontal and vertical coordinates in the owner's units.
        footprint: owner units covered by one output pixel (scalar or like ``u``);
            it selects the mip level, so minified patterns do not alias.

    Returns:
        float32 channel-first [3, *u.shape] albedo, or [*u.shape] for "fbm".
    """
    shape = np.shape(u)
    channels = 1 if spec.kind == "fbm" else 3
    ca, sa = math.cos(spec.angle), math.sin(spec.angle)
    inv = np.float32(1.0 / spec.period)
    u = np.asarray(u, np.float32).reshape(-1)
    v = np.asarray(v, np.float32).reshape(-1)
    pu = (np.float32(ca) * u + np.float32(sa) * v) * inv
    pv = (np.float32(ca) * v - np.float32(sa) * u) * inv
    pu -= np.floor(pu)
    pv -= np.floor(pv)
    fp = np.asarray(footprint, np.float32) * inv
    if fp.ndim:
        fp = np.broadcast_to(fp, shape).reshape(-1)
    if u.size == 0:
        out = np.zeros((channels, 0), np.float32)
    else:
        out = _sample_levels(spec, pu, pv, fp)
    out = out.reshape((channels,) + shape)
    return out[0] if spec.kind == "fbm" else out
