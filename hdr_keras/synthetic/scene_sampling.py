"""Shared pieces of the scene samplers: random colours, lights, textures and props.

The samplers (``outdoor_sampling``, ``indoor_sampling``) draw from a
``numpy.random.Generator`` only, in a fixed order, and store plain Python numbers in
frozen specs, so a seed maps to one scene on every machine. They derive the sprites'
lighting (key-light direction, irradiance, ambient, shadow direction) from the
background's sun or lamps, so the renderer needs no scene-level state.
"""

from __future__ import annotations

import colorsys
import math

import numpy as np

from hdr_keras.constants import LUMINANCE_WEIGHTS
from hdr_keras.synthetic.textures import Color, TextureSpec


def uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A Python float drawn uniformly from [lo, hi)."""
    return float(rng.uniform(lo, hi))


def new_seed(rng: np.random.Generator) -> int:
    """A seed for a texture's own random stream."""
    return int(rng.integers(0, 2**31 - 1))


def albedo_color(rng, sat=(0.05, 0.6), val=(0.35, 0.9), hue=None) -> Color:
    """A linear albedo from a random HSV colour (display-referred, then ** 2.2)."""
    h = float(rng.random()) if hue is None else hue % 1.0
    rgb = colorsys.hsv_to_rgb(h, uniform(rng, *sat), uniform(rng, *val))
    return tuple(float(min(max(c**2.2, 0.005), 0.9)) for c in rgb)


def scaled(c: Color, k: float) -> Color:
    """Colour times a scalar, as Python floats."""
    return tuple(float(x * k) for x in c)


def light_color(rng, coloured: float = 0.12) -> Color:
    """White-ish (warm to cool) or, sometimes, saturated; luminance 1."""
    if rng.random() < coloured:
        rgb = colorsys.hsv_to_rgb(float(rng.random()), uniform(rng, 0.4, 0.8), 1.0)
    else:
        warm = uniform(rng, -0.3, 1.0)
        rgb = (
            (1.0, 1.0 - 0.2 * warm, 1.0 - 0.45 * warm)
            if warm > 0
            else (
                1.0 + 0.3 * warm,
                1.0 + 0.1 * warm,
                1.0,
            )
        )
    lum = sum(weight * value for weight, value in zip(LUMINANCE_WEIGHTS, rgb))
    return scaled(rgb, 1.0 / lum)


def random_texture(
    rng, kinds, period, sat=(0.05, 0.6), val=(0.35, 0.9), hue=None, subtle=False
):
    """A random pattern; ``subtle``: second colour a darker shade of the first."""
    kind = str(rng.choice(kinds))
    a = albedo_color(rng, sat, val, hue)
    b = albedo_color(
        rng, sat, val, None if hue is None else hue + uniform(rng, -0.08, 0.08)
    )
    if subtle:
        b = tuple(float(x * uniform(rng, 0.55, 0.85)) for x in a)
    if kind in ("bricks", "planks", "checker"):
        b = scaled(b, 0.5)  # mortar, gaps, dark tiles
    return TextureSpec(
        kind=kind,
        seed=new_seed(rng),
        color_a=a,
        color_b=b,
        period=float(period),
        angle=(
            uniform(rng, -0.3, 0.3) if kind in ("noise", "marble", "stripes") else 0.0
        ),
        variation=uniform(rng, 0.2, 0.9),
    )


# Small vector maths in plain Python (no BLAS: the spec is the same on every CPU).


def dot(a, b) -> float:
    """Dot product of two short vectors."""
    return float(sum(x * y for x, y in zip(a, b)))


def unit_vector(v) -> tuple[float, ...]:
    """v / |v| as Python floats."""
    n = math.sqrt(dot(v, v))
    return tuple(float(x) / n for x in v)


def mat_vec(m, v) -> tuple[float, ...]:
    """m @ v for a matrix given as rows."""
    return tuple(dot(row, v) for row in m)


def mat_t_vec(m, v) -> tuple[float, ...]:
    """m.T @ v for a matrix given as rows."""
    return tuple(dot([row[i] for row in m], v) for i in range(len(m[0])))


def overlaps(center, radius, disc) -> bool:
    """Whether the circle (center, radius) meets disc = (y, x, r) (frame fractions)."""
    (y, x), (sy, sx, sr) = center, disc
    return math.hypot(y - sy, x - sx) < radius + sr


def prop_fields(rng, kind: str, phys: float):
    """Kind-specific sprite fields of a prop (sizes relative to its half height)."""
    if kind == "sphere":
        tex = random_texture(
            rng, ["plain", "stripes", "checker", "noise"], 1.3, (0.3, 0.9)
        )
        gloss = float(10 ** rng.uniform(0.5, 2.0)) if rng.random() < 0.8 else 0.0
        return dict(texture=tex, specular=gloss, shininess=uniform(rng, 12, 120))
    if kind == "blob":
        tex = random_texture(
            rng, ["noise", "marble", "plain"], 0.8, (0.02, 0.5), (0.2, 0.8)
        )
        harm = tuple(
            uniform(rng, 0, 0.12) if i % 2 == 0 else uniform(rng, 0, 6.3)
            for i in range(8)
        )
        gloss = float(10 ** rng.uniform(0.3, 1.8)) if rng.random() < 0.5 else 0.0
        return dict(
            texture=tex,
            aspect=uniform(rng, 0.7, 1.5),
            shape=harm,
            specular=gloss,
            shininess=uniform(rng, 10, 60),
        )
    if kind == "box":
        kinds = ["planks", "noise", "plain", "marble", "checker"]
        return dict(
            texture=random_texture(rng, kinds, 1.0), aspect=uniform(rng, 0.5, 1.8)
        )
    if kind == "pole":
        tex = random_texture(
            rng, ["plain", "noise", "bark"], 0.3, (0.0, 0.3), (0.2, 0.7)
        )
        return dict(
            texture=tex,
            aspect=uniform(rng, 0.02, 0.07) * 3.0 / phys,
            specular=uniform(rng, 0.5, 8.0),
            shininess=uniform(rng, 8, 40),
        )
    if kind == "panel":
        kinds = ["stripes", "checker", "noise", "marble"]
        return dict(
            texture=random_texture(rng, kinds, 1.2, (0.3, 0.9)),
            aspect=uniform(rng, 0.5, 1.6),
            shape=(uniform(rng, 0.03, 0.1),),
        )
    # bush: leafy greens, sometimes autumn colours
    hue = uniform(rng, 0.05, 0.14) if rng.random() < 0.2 else uniform(rng, 0.2, 0.38)
    tex = random_texture(rng, ["noise"], 0.35, (0.4, 0.8), (0.2, 0.6), hue)
    return dict(
        texture=tex, aspect=uniform(rng, 0.9, 1.4), shape=(uniform(rng, -1.3, -0.5),)
    )
