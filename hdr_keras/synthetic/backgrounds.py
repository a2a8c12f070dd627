"""Backgrounds of the synthetic HDR scenes: an outdoor sky over a ground, or a room.

Both are rendered per pixel from a pinhole camera (principal point at the frame centre,
focal length in units of min(H, W)), so any resolution shows the same view and a camera
offset is an exact shift of the pixel grid. A background returns two linear RGB layers,
``base`` (ambient-lit surfaces, sky, emitters) and ``direct`` (surfaces times key-light
irradiance); the scene multiplies ``direct`` by the objects' cast shadows before adding.

Conventions: world/camera axes x right, y down, z forward, metres; the camera sits at
the origin. Radiance of a white diffuse surface facing the key light at full strength
is about 1.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from hdr_keras.synthetic.textures import Color, TextureSpec, fbm_tile, sample_texture

F = np.float32


@dataclasses.dataclass(frozen=True)
class OutdoorSpec:
    """Sky with sun, aureole and clouds; distant terrain; textured, shaded ground.

    Positions are fractions of the frame's central min(H, W) square, angles radians.
    """

    horizon: float  # image row of the horizon
    focal: float  # focal length in units of min(H, W)
    camera_height: float  # metres above the ground
    sun: tuple[float, float]  # (y, x) of the sun's centre
    sun_radius: float  # angular radius
    sun_radiance: Color  # radiance at the disc centre
    aureole: Color  # peak radiance of the circumsolar glow
    aureole_width: float  # angular half width of the glow
    sun_irradiance: Color  # radiance of a white surface facing the sun
    sky_zenith: Color
    sky_horizon: Color
    sky_ambient: Color  # radiance of a white horizontal surface in shade
    clouds: float  # cloud cover in [0, 1]
    cloud_seed: int
    terrain: str  # "hills" | "city" | "flat"
    terrain_height: float  # mean elevation of the silhouette
    terrain_seed: int
    terrain_texture: TextureSpec  # period in radians of view angle
    terrain_haze: float  # blend of the terrain towards the horizon colour
    haze_distance: float  # metres at which ground haze reaches 63 %
    ground: TextureSpec  # period in metres
    shade: float  # share of the ground under dappled shade (off-screen trees)
    shade_seed: int
    shadow_edge: tuple[float, float, float]  # ground points with a*x + b*z > c shaded


@dataclasses.dataclass(frozen=True)
class PointLight:
    """A lamp in the room (world coordinates, metres)."""

    position: tuple[float, float, float]
    intensity: Color  # radiance of a white surface facing the light at 1 m
    lobe: float = 0.0  # > 0: shaded lamp, light concentrated up and down


@dataclasses.dataclass(frozen=True)
class Decal:
    """A rectangle on a room wall: window (emitter), door (dark opening) or picture."""

    kind: str  # "window" | "door" | "picture"
    plane: int  # 2 left wall, 3 right wall, 4 back wall
    rect: tuple[float, float, float, float]  # (u0, v0, u1, v1) in plane coordinates
    radiance: Color = (0.0, 0.0, 0.0)  # window: sky radiance; door: darkness level
    texture: TextureSpec | None = None  # picture content
    grid: tuple[int, int] = (2, 2)  # window panes (columns, rows)


@dataclasses.dataclass(frozen=True)
class IndoorSpec:
    """A box room seen from inside, lit by lamps, windows and a sun patch.

    ``room`` = (x_left < 0, x_right > 0, floor_y > 0, ceiling_y < 0, back_z > 0).
    Planes: 0 floor (u, v) = (x, z), 1 ceiling (x, z), 2 left wall (z, y),
    3 right wall (z, y), 4 back wall (x, y).
    """

    focal: float
    yaw: float
    pitch: float
    room: tuple[float, float, float, float, float]
    floor: TextureSpec
    ceiling: TextureSpec
    walls: TextureSpec
    back_wall: TextureSpec
    skirting: Color
    lights: tuple[PointLight, ...]
    ambient: Color
    decals: tuple[Decal, ...]
    sun_direction: tuple[float, float, float]  # towards the sun; zeros: no sun
    sun_irradiance: Color


# (axis, sign of the inward normal, (u axis, v axis)) of the room planes.
PLANES = (
    (1, -1.0, (0, 2)),  # 0 floor
    (1, 1.0, (0, 2)),  # 1 ceiling
    (0, 1.0, (2, 1)),  # 2 left wall
    (0, -1.0, (2, 1)),  # 3 right wall
    (2, -1.0, (0, 1)),  # 4 back wall
)
_ROOM_INDEX = (2, 3, 0, 1, 4)  # plane -> index of its coordinate in IndoorSpec.room


def camera_rotation(yaw: float, pitch: float) -> tuple[tuple[float, ...], ...]:
    """Rows of the camera-to-world rotation R_yaw @ R_pitch: pitch > 0 looks up,
    yaw > 0 looks right (Python floats, so samplers stay BLAS-free)."""
    cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
    return ((cy, sy * sp, sy * cp), (0.0, cp, -sp), (-sy, cy * sp, cy * cp))


def _rays(height, width, focal, camera_offset):
    """Flat camera-space ray components x, y [H*W] (z = 1) and the focal in pixels."""
    f = focal * min(height, width)
    ys = (np.arange(height, dtype=F) + F(0.5 + camera_offset[0] - height / 2)) / F(f)
    xs = (np.arange(width, dtype=F) + F(0.5 + camera_offset[1] - width / 2)) / F(f)
    cx, cy = np.broadcast_arrays(xs[None, :], ys[:, None])
    return cx.reshape(-1), cy.reshape(-1), f


def _smooth(e0, e1, x):
    t = np.clip((x - e0) * F(1.0 / (e1 - e0)), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _c(color) -> np.ndarray:
    """A colour as a [3, 1] column, to scale channel-first [3, n] layers."""
    return np.asarray(color, F).reshape(3, 1)


def _layers(base, direct, height, width):
    return base.reshape(3, height, width), direct.reshape(3, height, width)


def render_outdoor(spec: OutdoorSpec, height, width, camera_offset=(0.0, 0.0)):
    """(base, direct) float32 channel-first [3, H, W] layers of an outdoor scene."""
    cx, cy, f = _rays(height, width, spec.focal, camera_offset)
    pitch = math.atan((spec.horizon - 0.5) / spec.focal)
    cp, sp = F(math.cos(pitch)), F(math.sin(pitch))
    inv = 1.0 / np.sqrt(cx * cx + cy * cy + 1.0)
    sin_e = (sp - cy * cp) * inv  # elevation of the ray
    base = np.empty((3, cx.size), F)
    direct = np.zeros((3, cx.size), F)
    sky = np.flatnonzero(sin_e >= -1e-4)
    if sky.size:
        base[:, sky] = _sky(spec, cx[sky], cy[sky], inv[sky], sin_e[sky], f, cp, sp)
    ground = np.flatnonzero(sin_e < -1e-4)
    if ground.size:
        b, d = _ground(
            spec, cx[ground], cy[ground], inv[ground], -sin_e[ground], f, cp, sp
        )
        base[:, ground], direct[:, ground] = b, d
    return _layers(base, direct, height, width)


def _sky(spec: OutdoorSpec, cx, cy, inv, sin_e, f, cp, sp):
    """Sky radiance [3, n]: gradient, aureole, clouds, sun disc, distant terrain."""
    fwd, right = (cy * sp + cp) * inv, cx * inv
    s = np.array(
        [(spec.sun[1] - 0.5) / spec.focal, (spec.sun[0] - 0.5) / spec.focal, 1]
    )
    s = (s / np.linalg.norm(s)).astype(F)
    cos_g = (cx * s[0] + cy * s[1] + s[2]) * inv
    gamma = np.arccos(np.clip(cos_g, -1.0, 1.0))
    t = np.sqrt(np.clip(sin_e, 0.0, 1.0))
    sky = _c(spec.sky_horizon) + (_c(spec.sky_zenith) - _c(spec.sky_horizon)) * t
    q = 1.0 + (gamma * F(1.0 / spec.aureole_width)) ** 2
    halo = 1.0 / (q * np.sqrt(q))
    sky *= 1.0 + 0.8 * np.exp(gamma * F(-1.0 / 0.45))
    sky += _c(spec.aureole) * halo
    dens = None
    if spec.clouds > 0:
        h = np.clip(sin_e, 0.0, 1.0) + F(0.04)
        tex = TextureSpec("fbm", spec.cloud_seed, period=2.5)
        z = sample_texture(tex, right / h, fwd / h, 1.0 / (F(f) * h * h))
        thr = 1.5 - 3.0 * spec.clouds
        dens = _smooth(thr - 0.3, thr + 0.6, z) * _smooth(0.0, 0.08, sin_e)
        lum = _c(spec.sky_horizon) * F(1.1) + _c(spec.sun_irradiance) * F(0.25)
        cloud = lum * (0.55 + 0.45 * _smooth(-0.5, 2.0, z))
        cloud += _c(spec.aureole) * (0.5 * halo)
        sky += (cloud - sky) * dens
    # Sun disc (anti-aliased, limb-darkened, dimmed by clouds).
    r = spec.sun_radius
    disc = np.flatnonzero(gamma < r + 2.0 / f)
    if disc.size:
        g = gamma[disc]
        cover = np.clip((r - g) * F(f) + 0.5, 0.0, 1.0)
        limb = 1.0 - 0.35 * (1.0 - np.sqrt(np.clip(1.0 - (g / F(r)) ** 2, 0.0, 1.0)))
        k = cover * limb
        if dens is not None:
            k *= np.exp(-4.0 * dens[disc])
        sky[:, disc] += _c(spec.sun_radiance) * k
    if spec.terrain != "flat":
        _terrain(spec, sky, fwd, right, sin_e, f)
    return sky


def _terrain(spec: OutdoorSpec, sky, fwd, right, sin_e, f) -> None:
    """Paint the distant skyline (hills or city blocks) over the sky, in place."""
    top = spec.terrain_height * (2.7 if spec.terrain == "hills" else 2.0)
    idx = np.flatnonzero(sin_e < math.sin(top) + 2.0 / f)
    if not idx.size:
        return
    azim = np.arctan2(right[idx], fwd[idx])
    elev = np.arcsin(sin_e[idx])
    pos = (azim * F(3.0 / (2 * math.pi))) % 1.0 * 256
    if spec.terrain == "hills":
        noise = fbm_tile(spec.terrain_seed, 256)[0]
        prof = np.interp(pos, np.arange(257, dtype=F), np.append(noise, noise[0]))
        prof = F(spec.terrain_height) * np.maximum(1.0 + 0.55 * prof, 0.05)
    else:  # city: blocks of random width and height
        rng = np.random.default_rng(spec.terrain_seed)
        edges = np.cumsum(rng.uniform(2.0, 9.0, 200))
        heights = rng.uniform(0.25, 2.0, 200) * (rng.random(200) > 0.1)
        block = np.minimum(np.searchsorted(edges, pos), 199)
        prof = F(spec.terrain_height) * heights[block].astype(F)
    cover = np.clip((prof - elev) * F(f) + 0.5, 0.0, 1.0)
    alb = sample_texture(spec.terrain_texture, azim, elev, 1.0 / f)
    lit = _c(spec.sky_ambient) * F(1.3) + _c(spec.sun_irradiance) * F(0.15)
    hz = F(spec.terrain_haze)
    terrain = alb * lit * (1 - hz) + _c(spec.sky_horizon) * hz
    sky[:, idx] += (terrain - sky[:, idx]) * cover


def _ground(spec: OutdoorSpec, cx, cy, inv, depression, f, cp, sp):
    """(base, direct) [3, n] of the textured ground plane below the horizon."""
    dist = F(spec.camera_height) / depression
    gx, gz = dist * cx * inv, dist * (cy * sp + cp) * inv
    fp = dist / (F(f) * np.maximum(depression, 0.02))
    alb = sample_texture(spec.ground, gx, gz, fp)
    vis = None
    if spec.shade > 0:
        z = sample_texture(TextureSpec("fbm", spec.shade_seed, period=6.0), gx, gz, fp)
        thr = 1.6 - 3.2 * spec.shade
        vis = 1.0 - 0.92 * _smooth(thr - 0.15, thr + 0.15, z)
    a, b, c = spec.shadow_edge
    if math.isfinite(c):
        edge = 1.0 - 0.95 * _smooth(-0.15, 0.15, F(a) * gx + F(b) * gz - F(c))
        vis = edge if vis is None else vis * edge
    clear = np.exp(gz * F(-1.0 / spec.haze_distance))  # 1 - haze
    s = np.array(
        [(spec.sun[1] - 0.5) / spec.focal, (spec.sun[0] - 0.5) / spec.focal, 1]
    )
    s /= np.linalg.norm(s)
    sun_elev = math.asin(float(-s[1] * cp + s[2] * sp))
    sun = _c(spec.sun_irradiance) * F(max(math.sin(sun_elev), 0.04))
    base = alb * (_c(spec.sky_ambient) * clear) + _c(spec.sky_horizon) * (1 - clear)
    direct = alb * (sun * (clear if vis is None else clear * vis))
    return base, direct


def _rect_cover(u, v, rect, fp):
    """Anti-aliased coverage of a rectangle in plane coordinates (fp: metres/px)."""
    u0, v0, u1, v1 = rect
    sd = np.maximum(np.maximum(u0 - u, u - u1), np.maximum(v0 - v, v - v1))
    return np.clip(0.5 - sd / fp, 0.0, 1.0)


def _bars(u, v, rect, grid, width):
    """1 on the window frame and mullions (bars of ``width`` metres), 0 on the glass."""
    u0, v0, u1, v1 = rect
    du = (u - u0) / (u1 - u0) * grid[0]
    dv = (v - v0) / (v1 - v0) * grid[1]
    eu = np.abs(du - np.round(du)) * (u1 - u0) / grid[0]
    ev = np.abs(dv - np.round(dv)) * (v1 - v0) / grid[1]
    return np.minimum(eu, ev) < width


def render_indoor(spec: IndoorSpec, height, width, camera_offset=(0.0, 0.0)):
    """(base, direct) float32 channel-first [3, H, W] layers of a room."""
    cx, cy, f = _rays(height, width, spec.focal, camera_offset)
    rot = np.asarray(camera_rotation(spec.yaw, spec.pitch), F)
    d = [rot[i, 0] * cx + rot[i, 1] * cy + rot[i, 2] for i in range(3)]
    # Nearest plane along each ray (the camera is inside the box).
    t = np.full(cx.size, F(1e3))
    pid = np.zeros(cx.size, np.int8)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, (axis, _, _) in enumerate(PLANES):
            tk = F(spec.room[_ROOM_INDEX[k]]) / d[axis]
            closer = (tk > 0) & (tk < t)
            t = np.where(closer, tk, t)
            pid[closer] = k
    p = [t * di for di in d]
    table = np.zeros((3, 5), F)
    for k, (axis, sign, _) in enumerate(PLANES):
        table[axis, k] = sign
    n = [table[i][pid] for i in range(3)]
    norm2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
    ndotd = np.abs(n[0] * d[0] + n[1] * d[1] + n[2] * d[2])
    fp = t * norm2 / (F(f) * np.maximum(ndotd, 0.08 * np.sqrt(norm2)))
    side, level = (pid == 2) | (pid == 3), pid <= 1
    u = np.where(side, p[2], p[0])
    v = np.where(level, p[2], p[1])
    albedo = np.empty((3, cx.size), F)
    groups = ((spec.floor, pid == 0), (spec.ceiling, pid == 1), (spec.walls, side))
    for tex, mask in groups + ((spec.back_wall, pid == 4),):
        idx = np.flatnonzero(mask)
        albedo[:, idx] = sample_texture(tex, u[idx], v[idx], fp[idx])
    skirt = np.flatnonzero((pid >= 2) & (p[1] > spec.room[2] - 0.09))
    albedo[:, skirt] = _c(spec.skirting)
    emission = np.zeros_like(albedo)
    # Ambient occlusion from the distance to the nearest other plane.
    dmin = np.full(cx.size, F(1e3))
    for k, (axis, _, _) in enumerate(PLANES):
        dk = np.abs(p[axis] - F(spec.room[_ROOM_INDEX[k]]))
        dk[pid == k] = 1e3
        np.minimum(dmin, dk, out=dmin)
    ao = 1.0 - 0.6 * np.exp(dmin * F(-1.0 / 0.35))
    irr = np.zeros_like(albedo)
    for light in spec.lights:
        lv = [F(light.position[i]) - p[i] for i in range(3)]
        d2 = np.maximum(lv[0] * lv[0] + lv[1] * lv[1] + lv[2] * lv[2], F(0.04))
        rinv = 1.0 / np.sqrt(d2)
        cos_r = np.maximum(n[0] * lv[0] + n[1] * lv[1] + n[2] * lv[2], 0.0) * rinv
        if light.lobe > 0:
            cos_r *= 0.1 + 0.9 * np.exp(
                F(light.lobe) * np.log(np.abs(lv[1]) * rinv + 1e-6)
            )
        irr += _c(light.intensity) * (cos_r * rinv * rinv)
    for dec in spec.decals:
        if dec.kind == "window":
            irr += _window_light(spec, dec, p, n)
            if any(spec.sun_direction):
                irr += _sun_patch(spec, dec, p, n, pid)
        u0, v0, u1, v1 = _grow(dec.rect, 0.1)
        idx = np.flatnonzero(
            (pid == dec.plane) & (u > u0) & (u < u1) & (v > v0) & (v < v1)
        )
        _paint_decal(dec, u[idx], v[idx], fp[idx], albedo, emission, idx)
    base = albedo * (_c(spec.ambient) * ao) + emission
    return _layers(base, albedo * irr, height, width)


def _paint_decal(dec: Decal, u, v, fp, albedo, emission, idx) -> None:
    """Draw a decal into the albedo/emission columns ``idx`` (u, v, fp: those)."""
    alb, emi = albedo[:, idx], emission[:, idx]
    cover = _rect_cover(u, v, dec.rect, fp)
    if dec.kind == "window":
        glass = cover * ~_bars(u, v, dec.rect, dec.grid, 0.03)
        emi = emi + _window_view(dec, u, v) * glass
        alb = alb * (1 - cover) + F(0.7) * (cover - glass)
    elif dec.kind == "door":
        trim = _rect_cover(u, v, _grow(dec.rect, 0.07, bottom=False), fp)
        alb = alb * (1 - trim) + F(0.6) * trim
        vf = np.clip((v - dec.rect[1]) / (dec.rect[3] - dec.rect[1]), 0.0, 1.0)
        dark = _c(dec.radiance) * (0.4 + 0.8 * vf)
        emi = emi * (1 - cover) + dark * cover
        alb = alb * (1 - cover)
    else:
        frame = _rect_cover(u, v, _grow(dec.rect, 0.04), fp)
        alb = alb * (1 - frame) + F(0.05) * frame
        pic = sample_texture(dec.texture, u - dec.rect[0], v - dec.rect[1], fp)
        alb = alb + (pic - alb) * cover
    albedo[:, idx], emission[:, idx] = alb, emi


def _grow(rect, m, bottom=True):
    u0, v0, u1, v1 = rect
    return (u0 - m, v0 - m, u1 + m, v1 + (m if bottom else 0.0))


def _decal_frame(spec: IndoorSpec, dec: Decal):
    """Centre (world), inward normal, and (u, v) axes of a wall decal."""
    axis, sign, (au, av) = PLANES[dec.plane]
    u0, v0, u1, v1 = dec.rect
    centre = [0.0, 0.0, 0.0]
    centre[axis] = spec.room[_ROOM_INDEX[dec.plane]]
    centre[au], centre[av] = (u0 + u1) / 2, (v0 + v1) / 2
    normal = [0.0, 0.0, 0.0]
    normal[axis] = sign
    return centre, normal, axis, au, av


def _window_light(spec: IndoorSpec, dec: Decal, p, n):
    """Irradiance [3, n] from a window treated as a small area light."""
    centre, normal, axis, _, _ = _decal_frame(spec, dec)
    u0, v0, u1, v1 = dec.rect
    area = (u1 - u0) * (v1 - v0)
    lv = [F(centre[i]) - p[i] for i in range(3)]
    d2 = np.maximum(lv[0] * lv[0] + lv[1] * lv[1] + lv[2] * lv[2], F(area))
    cos_r = np.maximum(n[0] * lv[0] + n[1] * lv[1] + n[2] * lv[2], 0.0)
    cos_w = np.maximum(lv[axis] * F(-normal[axis]), 0.0)
    e = cos_r * cos_w / (d2 * d2) * F(area / math.pi)
    return _c(dec.radiance) * (0.8 * e)


def _sun_patch(spec: IndoorSpec, dec: Decal, p, n, pid):
    """Irradiance [3, n] of sunlight entering through a window (mullions shade it)."""
    _, normal, axis, au, av = _decal_frame(spec, dec)
    s = spec.sun_direction
    if s[axis] * normal[axis] >= 0:  # sun not behind this wall
        return 0.0
    tt = (F(spec.room[_ROOM_INDEX[dec.plane]]) - p[axis]) / F(s[axis])
    hu, hv = p[au] + tt * F(s[au]), p[av] + tt * F(s[av])
    lit = _rect_cover(hu, hv, dec.rect, 0.004 + 0.01 * tt) * (pid != dec.plane)
    lit *= ~_bars(hu, hv, dec.rect, dec.grid, 0.03)
    cos_r = np.maximum(F(s[0]) * n[0] + F(s[1]) * n[1] + F(s[2]) * n[2], 0.0)
    return _c(spec.sun_irradiance) * (lit * cos_r)


def _window_view(dec: Decal, u, v):
    """Radiance [3, n] seen through a window: bright sky, darker scenery below."""
    u0, v0, u1, v1 = dec.rect
    vf = np.clip((v - v0) / (v1 - v0), 0.0, 1.0)
    z = sample_texture(dec.texture, u, v, 0.01)
    scenery = _smooth(-0.02, 0.02, vf - (0.55 + 0.12 * z))
    sky = 1.15 - 0.45 * vf
    level = sky * (1 - scenery) + np.maximum(0.12 + 0.05 * z, 0.02) * scenery
    return _c(dec.radiance) * level
