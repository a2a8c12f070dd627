"""Objects of the synthetic scenes: shaded sprites with alpha, cast shadows and glow.

Every object is described by an :class:`ObjectSpec` in resolution-independent units
(centre as fractions of the frame's central min(H, W) square, size as a fraction of
min(H, W)) and rendered on demand at any pixel position and rotation, so a stack
generator can move objects between the frames of a bracket. Shading is computed in
the sprite's rotated frame from a key light (direction + irradiance, fixed by the
scene sampler), a hemispherical ambient term and a Phong-like specular lobe.

Radiance units: a white diffuse surface facing the key light has radiance
``irradiance`` (per channel); emitters carry their radiance in ``emission``.
Images are channel-first [3, h, w] internally (much faster broadcasting in numpy).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from hdr_keras.synthetic.textures import Color, TextureSpec, sample_texture

OBJECT_KINDS = ("sphere", "blob", "box", "pole", "panel", "lamp", "bush")
_BLACK: Color = (0.0, 0.0, 0.0)


@dataclasses.dataclass(frozen=True)
class ObjectSpec:
    """One sprite of a scene.

    Attributes:
        kind: one of ``OBJECT_KINDS``.
        center: (y, x) of the sprite centre as fractions of the frame's central
            min(H, W) square (of the whole frame when it is square).
        size: half height of the sprite as a fraction of min(height, width).
        aspect: half width / half height.
        rotation: rotation in radians (counter-clockwise on screen).
        texture: albedo pattern (period in sizes); None for pure emitters.
        light: unit vector towards the key light in camera coordinates (x right,
            y down, z into the scene).
        irradiance: radiance of a white surface facing the key light.
        ambient: radiance of a white surface lit by the ambient light alone.
        specular: peak of the specular lobe relative to ``irradiance`` (0: matte).
        shininess: Phong exponent of the lobe.
        emission: emitted radiance (lamps); zero for other objects.
        glow: radius of the bloom around an emitter in sizes (0: none).
        glow_gain: peak of the bloom relative to ``emission``.
        shadow: opacity in [0, 1] of the shadow cast on the background (0: none).
        shadow_offset: (dy, dx) from the sprite's base to the shadow tip, in sizes.
        shape: kind-specific parameters (blob harmonics, box depth and door, ...).
        movable: False for objects that should stay put (buildings, fixtures).
    """

    kind: str
    center: tuple[float, float]
    size: float
    aspect: float = 1.0
    rotation: float = 0.0
    texture: TextureSpec | None = None
    light: tuple[float, float, float] = (0.0, -0.6, -0.8)
    irradiance: Color = (1.0, 1.0, 1.0)
    ambient: Color = (0.1, 0.1, 0.1)
    specular: float = 0.0
    shininess: float = 30.0
    emission: Color = _BLACK
    glow: float = 0.0
    glow_gain: float = 0.0
    shadow: float = 0.0
    shadow_offset: tuple[float, float] = (0.0, 0.0)
    shape: tuple[float, ...] = ()
    movable: bool = True


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where an object lands in one rendered frame, in output pixels."""

    cy: float
    cx: float
    rotation: float
    scale: float  # pixels per size unit


def place(
    obj: ObjectSpec,
    height: int,
    width: int,
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0),
    camera_offset: tuple[float, float] = (0.0, 0.0),
) -> Placement:
    """Pixel placement of ``obj`` displaced by ``offset`` = (dy, dx, rotation).

    Centres are fractions of the frame's central min(H, W) square, as the
    backgrounds' camera uses them, so wider or taller frames show more around it.
    """
    dy, dx, rot = offset
    unit = min(height, width)
    return Placement(
        cy=height / 2 + (obj.center[0] - 0.5) * unit + dy - camera_offset[0],
        cx=width / 2 + (obj.center[1] - 0.5) * unit + dx - camera_offset[1],
        rotation=obj.rotation + rot,
        scale=obj.size * unit,
    )


def extent(obj: ObjectSpec) -> float:
    """Radius of a circle (in sizes) around the centre containing the sprite."""
    a = obj.aspect
    if obj.kind == "blob":
        return (1.0 + sum(abs(x) for x in obj.shape[0::2])) * max(1.0, a)
    if obj.kind == "box":
        return math.hypot(a + abs(obj.shape[0]), 1.0 + abs(obj.shape[1]))
    if obj.kind == "lamp":
        return math.hypot(2.2 * a, 2.6)
    if obj.kind == "bush":
        return 1.25 * max(1.0, a)
    return math.hypot(a, 1.0) if obj.kind in ("pole", "panel") else max(1.0, a)


def _shadow_geometry(obj: ObjectSpec, p: Placement):
    """Base point, tip vector and half width of the cast shadow, in pixels."""
    base = (p.cy + p.scale, p.cx)
    tip = (obj.shadow_offset[0] * p.scale, obj.shadow_offset[1] * p.scale)
    return base, tip, 0.9 * obj.aspect * p.scale


def bounds(obj: ObjectSpec, p: Placement, height: int, width: int):
    """(y0, y1, x0, x1) pixel box, clipped to the frame, of the sprite and its shadow.

    Glow is not included (it spans the whole frame). Returns None if empty.
    """
    r = extent(obj) * p.scale + 2.0
    y0, y1, x0, x1 = p.cy - r, p.cy + r, p.cx - r, p.cx + r
    if obj.shadow > 0:
        (by, bx), (ty, tx), w = _shadow_geometry(obj, p)
        m = 1.6 * w + 2.0
        y0, y1 = min(y0, by - m, by + ty - m), max(y1, by + m, by + ty + m)
        x0, x1 = min(x0, bx - m, bx + tx - m), max(x1, bx + m, bx + tx + m)
    y0, y1 = max(int(math.floor(y0)), 0), min(int(math.ceil(y1)), height)
    x0, x1 = max(int(math.floor(x0)), 0), min(int(math.ceil(x1)), width)
    return None if y0 >= y1 or x0 >= x1 else (y0, y1, x0, x1)


def _cover(sd: np.ndarray, scale: float) -> np.ndarray:
    """Anti-aliased coverage from a signed distance in sizes (negative inside)."""
    return np.clip(0.5 - sd * np.float32(scale), 0.0, 1.0)


def _rect_sd(u, v, u0, u1, v0, v1):
    return np.maximum(np.maximum(u0 - u, u - u1), np.maximum(v0 - v, v - v1))


def _c(color) -> np.ndarray:
    """A colour as a [3, 1, 1] column, to scale channel-first [3, h, w] images."""
    return np.asarray(color, np.float32).reshape(3, 1, 1)


class _Shader:
    """Key light, ambient and specular lobe of one object in its rotated frame."""

    def __init__(self, obj: ObjectSpec, rotation: float):
        c, s = math.cos(rotation), math.sin(rotation)
        lx, ly, lz = obj.light
        self.l = (c * lx + s * ly, -s * lx + c * ly, lz)
        self.up = (-s, -c)  # screen up (0, -1) in the rotated frame
        self.e, self.a = _c(obj.irradiance), _c(obj.ambient)
        self.obj = obj

    def __call__(self, albedo, nx, ny, nz, occlusion=1.0):
        """Radiance [3, h, w] for unit normals (nx, ny, -nz), nz >= 0 towards us."""
        lx, ly, lz = self.l
        ndl = nx * lx + ny * ly - nz * lz
        hemi = (0.6 + 0.4 * (nx * self.up[0] + ny * self.up[1])) * occlusion
        light = self.e * (np.maximum(ndl, 0.0) * occlusion) + self.a * hemi
        if self.obj.specular > 0:
            rv = np.maximum((2.0 * ndl * nz + lz) * (ndl > 0), 1e-6)
            lobe = np.exp(np.log(rv) * np.float32(self.obj.shininess))
            return albedo * light + self.e * (lobe * (self.obj.specular * occlusion))
        return albedo * light


def _texture(obj: ObjectSpec, u, v, scale, shift=(0.0, 0.0)):
    if obj.texture is None:
        return np.full((3,) + u.shape, 0.5, np.float32)
    return sample_texture(obj.texture, u + shift[0], v + shift[1], 1.0 / scale)


def _render_local(obj: ObjectSpec, u, v, scale, shader):
    """(radiance [3, h, w], alpha [h, w]) of ``obj`` at local coordinates (sizes)."""
    a = obj.aspect
    kind = obj.kind
    if kind in ("sphere", "blob"):
        uu = u / a
        r = np.sqrt(uu * uu + v * v)
        if kind == "blob":
            phi = np.arctan2(v, uu)
            radius = np.ones_like(r)
            for k, (amp, ph) in enumerate(zip(obj.shape[0::2], obj.shape[1::2])):
                radius += np.float32(amp) * np.cos((k + 2) * phi + np.float32(ph))
        else:
            radius = np.float32(1.0)
        alpha = _cover((r - radius) * min(a, 1.0), scale)
        rr = np.minimum(r / radius, 1.0)
        nz = np.sqrt(np.maximum(1.0 - rr * rr, 0.0))
        k = rr / (r + 1e-6)
        rad = shader(_texture(obj, u, v, scale), uu * k, v * k, nz, 0.75 + 0.25 * nz)
        return rad + _c(obj.emission), alpha
    if kind in ("pole", "panel"):
        alpha = _cover(_rect_sd(u, v, -a, a, -1.0, 1.0), scale)
        alb = _texture(obj, u, v, scale)
        if kind == "pole":
            t = np.clip(u / a, -1.0, 1.0)
            return shader(alb, t, np.zeros_like(t), np.sqrt(1.0 - t * t)), alpha
        fw = obj.shape[0] if obj.shape else 0.0
        frame = _rect_sd(u, v, -a + fw, a - fw, -1.0 + fw, 1.0 - fw) > 0
        alb = np.where(frame, np.float32(0.08), alb)
        ny = -0.2 + 0.1 * v
        return shader(alb, np.full_like(u, 0.15), ny, np.full_like(u, 0.97)), alpha
    if kind == "box":
        return _render_box(obj, u, v, scale, shader)
    if kind == "lamp":
        return _render_lamp(obj, u, v, scale, shader)
    if kind == "bush":
        r = np.sqrt((u / a) ** 2 + v * v)
        seed = obj.texture.seed if obj.texture else 0
        z = sample_texture(TextureSpec("fbm", seed, period=0.9), u, v, 1.0 / scale)
        leaves = TextureSpec("fbm", seed + 1, period=0.25)
        z = z * 0.75 + 0.5 * sample_texture(leaves, u, v, 1.0 / scale)
        thr = obj.shape[0] if obj.shape else 0.0
        # Leaves thin out towards the rim; holes show what is behind.
        density = z - thr - 2.2 * np.maximum(r - 0.55, 0.0) / 0.45
        alpha = np.clip(density * 4.0 + 0.5, 0.0, 1.0) * (r < 1.25)
        rr = np.minimum(r, 1.0)
        nz = np.sqrt(np.maximum(1.0 - rr * rr, 0.0))
        occl = np.clip(0.45 + 0.3 * (z - thr), 0.1, 1.0) * (0.6 + 0.4 * rr)
        rad = shader(_texture(obj, u, v, scale), u / a, v, nz + 0.1, occl)
        return rad, alpha
    raise ValueError(f"unknown object kind {kind!r}; valid: {OBJECT_KINDS}")


def _render_box(obj: ObjectSpec, u, v, scale, shader):
    """A cuboid in oblique view: front face, top face and one side face.

    shape = (depth_dx, depth_dy, door_x, door_half_width, door_height); the depth
    vector goes from the front face to the back (dy < 0: the top is visible).
    """
    a = obj.aspect
    ddx, ddy, door_x, door_w, door_h = (tuple(obj.shape) + (0.0,) * 5)[:5]
    sd_front = _rect_sd(u, v, -a, a, -1.0, 1.0)
    far = np.full_like(u, 1e3)
    if ddy != 0:
        t = (v + 1.0) / ddy
        sd_top = np.maximum(np.maximum(-t, t - 1.0) * abs(ddy), np.abs(u - t * ddx) - a)
    else:
        sd_top = far
    # Side face on the side of ddx: x = side*a + t*ddx, t in [0, 1].
    side = 1.0 if ddx >= 0 else -1.0
    if ddx != 0:
        t2 = (u - side * a) / ddx
        sd_side = np.maximum(
            np.maximum(-t2, t2 - 1.0) * abs(ddx), np.abs(v - t2 * ddy) - 1
        )
    else:
        sd_side = far
    alpha = _cover(np.minimum(np.minimum(sd_front, sd_top), sd_side), scale)
    faces = (
        (sd_front, (0.0, 0.0, 1.0), (0.0, 0.0)),
        (sd_top, (0.0, -0.9, 0.44), (0.37, 0.71)),
        (sd_side, (side * 0.9, 0.0, 0.44), (0.13, 0.29)),
    )
    acc, wsum = 0.0, 0.0
    shading = 1.0 - 0.12 * (v + 1.0)
    ones = np.ones_like(u)
    for k, (sd, (nx, ny, nz), shift) in enumerate(faces):
        if sd is far:
            continue
        w = _cover(sd, scale) + 1e-6
        alb = _texture(obj, u, v, scale, shift)
        if k == 0 and door_w > 0:
            door = _rect_sd(u, v, door_x - door_w, door_x + door_w, 1.0 - door_h, 1.0)
            d = _cover(door, scale)
            alb = alb * (1 - d) + np.float32(0.012) * d
            trim = _cover(door - 0.04, scale) - d
            alb = alb * (1 - trim) + np.float32(0.5) * trim
        rad = shader(alb, nx * ones, ny * ones, nz * ones, shading)
        acc, wsum = acc + rad * w, wsum + w
    return acc / wsum, alpha


def _render_lamp(obj: ObjectSpec, u, v, scale, shader):
    """An emissive bulb (disc) of radius 1, optionally under a translucent shade.

    shape = (shade,): 0 bare bulb, 1 conical shade above the bulb.
    """
    a = obj.aspect
    emission = _c(obj.emission)
    r = np.sqrt((u / a) ** 2 + v * v)
    alpha = _cover((r - 1.0) * min(a, 1.0), scale)
    rad = emission * (1.0 - 0.3 * np.minimum(r, 1.0) ** 2)
    if obj.shape and obj.shape[0] > 0:
        # Trapezoid from v = -2.4 (narrow top) to v = -0.2 (wide bottom).
        t = np.clip((v + 2.4) / 2.2, 0.0, 1.0)
        half = a * (1.1 + 1.0 * t)
        sd = np.maximum(np.abs(u) - half, np.maximum(-2.4 - v, v + 0.2))
        shade_alpha = _cover(sd, scale)
        zeros = np.zeros_like(u)
        fabric = shader(_texture(obj, u, v, scale), zeros, zeros - 0.3, zeros + 0.95)
        shade_rad = fabric + emission * (np.float32(0.01) * (0.4 + t))
        rad = rad + (shade_rad - rad) * shade_alpha
        alpha = np.maximum(alpha, shade_alpha)
    return rad, alpha


def render_object(obj: ObjectSpec, p: Placement, height: int, width: int):
    """(box, radiance [3, h, w], alpha [h, w]) of the sprite, or None if off-frame."""
    r = extent(obj) * p.scale + 2.0
    y0, y1 = max(int(math.floor(p.cy - r)), 0), min(int(math.ceil(p.cy + r)), height)
    x0, x1 = max(int(math.floor(p.cx - r)), 0), min(int(math.ceil(p.cx + r)), width)
    if y0 >= y1 or x0 >= x1:
        return None
    ys = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - p.cy))[:, None]
    xs = (np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - p.cx))[None, :]
    c, s = np.float32(math.cos(p.rotation)), np.float32(math.sin(p.rotation))
    inv = np.float32(1.0 / p.scale)
    u = (c * xs + s * ys) * inv
    v = (c * ys - s * xs) * inv
    rad, alpha = _render_local(obj, u, v, p.scale, _Shader(obj, p.rotation))
    return (y0, y1, x0, x1), rad.astype(np.float32), alpha.astype(np.float32)


def shadow_mask(obj: ObjectSpec, p: Placement, box):
    """Fractions [h, w] of key light and of ambient light that ``obj`` blocks in box.

    The shadow is a capsule on the ground from the sprite's base to the tip offset,
    squashed vertically (ground seen at a grazing angle) and with a penumbra that
    widens towards the tip, plus a dark contact patch right under the base.
    """
    y0, y1, x0, x1 = box
    (by, bx), (ty, tx), w = _shadow_geometry(obj, p)
    squash = 0.35
    py = (np.arange(y0, y1, dtype=np.float32) + 0.5 - by)[:, None] / squash
    px = (np.arange(x0, x1, dtype=np.float32) + 0.5 - bx)[None, :]
    sy = ty / squash
    seg2 = sy * sy + tx * tx + 1e-6
    t = np.clip((py * sy + px * tx) / seg2, 0.0, 1.0)
    dist = np.sqrt((py - t * sy) ** 2 + (px - t * tx) ** 2)
    soft = w * (0.15 + 0.6 * t) + 1.0
    cast = np.clip((w - dist) / soft + 0.5, 0.0, 1.0) * (1.0 - 0.35 * t)
    contact = np.clip(1.0 - np.sqrt(py * py + px * px) / (0.8 * w + 1.0), 0.0, 1.0)
    contact = contact**1.5
    return np.maximum(obj.shadow * cast, 0.95 * contact), 0.8 * contact


def glow_field(obj: ObjectSpec, p: Placement, height: int, width: int) -> np.ndarray:
    """Additive bloom [3, H, W] around an emitter: glow_gain * emission at the centre,
    (1 + (r / glow)**2)**-3 around it (compact, so dark corners stay dark)."""
    ys = (np.arange(height, dtype=np.float32) + 0.5 - p.cy)[:, None]
    xs = (np.arange(width, dtype=np.float32) + 0.5 - p.cx)[None, :]
    r2 = (ys * ys + xs * xs) / np.float32((obj.glow * p.scale) ** 2)
    q = 1.0 + r2
    core = 1.0 / (q * q * q)
    return _c(obj.emission) * (core * np.float32(obj.glow_gain))
