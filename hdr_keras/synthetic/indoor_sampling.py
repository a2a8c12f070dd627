"""Indoor scenes: a box room with lamps, windows, a sun patch, a door and furniture.

Guarantees behind the >= 5 orders of magnitude of every scene: a bare bulb or lamp
(2e3-3e4) is in view and big enough to cover >= 0.1 % of the frame, and an open door
into an unlit room (radiance 1e-3-5e-3) is on a wall in view, away from the lamp's
glow; no prop is placed over the lamp or the middle of the door.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from hdr_keras.synthetic.backgrounds import (
    Decal,
    IndoorSpec,
    PointLight,
    camera_rotation,
)
from hdr_keras.synthetic.scene_sampling import (
    albedo_color,
    dot,
    mat_t_vec,
    mat_vec,
    light_color,
    new_seed,
    overlaps,
    prop_fields,
    random_texture,
    scaled,
    uniform,
    unit_vector,
)
from hdr_keras.synthetic.sprites import ObjectSpec, extent
from hdr_keras.synthetic.textures import TextureSpec


class _Camera:
    """Projection between world points and frame fractions (central square)."""

    def __init__(self, focal: float, yaw: float, pitch: float):
        self.focal, self.rot = focal, camera_rotation(yaw, pitch)

    def project(self, p):
        """((y, x) fractions, camera depth) of world point p; None behind the camera."""
        d = mat_t_vec(self.rot, p)
        if d[2] < 0.2:
            return None, float(d[2])
        return (
            float(0.5 + self.focal * d[1] / d[2]),
            float(0.5 + self.focal * d[0] / d[2]),
        ), float(d[2])

    def ray(self, y: float, x: float) -> tuple[float, ...]:
        return mat_vec(self.rot, ((x - 0.5) / self.focal, (y - 0.5) / self.focal, 1.0))


def _in_frame(yx, margin: float = 0.0) -> bool:
    return yx is not None and all(margin <= c <= 1 - margin for c in yx)


def _exit_distance(room, d) -> float:
    """Distance along direction d from the camera to the room's boundary."""
    xl, xr, fy, cy, zb = room
    ts = [
        v / c for v, c in ((xl, d[0]), (xr, d[0]), (fy, d[1]), (cy, d[1]), (zb, d[2]))
    ]
    return min(t for t in ts if t > 0)


def _wall_rect(rng, room, plane, width, height, bottom):
    """(u0, v0, u1, v1) of a width x height rectangle on a wall, bottom above floor."""
    xl, xr, fy, cy, zb = room
    lo, hi = (xl + 0.25, xr - 0.25) if plane == 4 else (0.6, zb - 0.25)
    width = min(width, hi - lo - 0.05)
    u0 = uniform(rng, lo, hi - width)
    v1 = fy - bottom
    return (u0, max(v1 - height, cy + 0.15), u0 + width, v1)


def _wall_point(room, plane, u, v):
    xl, xr, _, _, zb = room
    if plane == 4:
        return (u, v, zb)
    return (xl if plane == 2 else xr, v, u)


def _disjoint(rect, others) -> bool:
    return all(
        rect[2] + 0.1 < o[0]
        or o[2] + 0.1 < rect[0]
        or rect[3] + 0.1 < o[1]
        or o[3] + 0.1 < rect[1]
        for o in others
    )


def sample_indoor(rng: np.random.Generator):
    """(IndoorSpec, [ObjectSpec]) of a random room with a visible lamp and a door."""
    span = uniform(rng, 3.5, 7.0)
    xl = -span * uniform(rng, 0.3, 0.7)
    floor_y = uniform(rng, 1.1, 1.7)
    room = (
        xl,
        xl + span,
        floor_y,
        floor_y - uniform(rng, 2.4, 3.3),
        uniform(rng, 3.5, 8.0),
    )
    focal, yaw, pitch = (
        uniform(rng, 0.6, 1.1),
        uniform(rng, -0.35, 0.35),
        uniform(rng, -0.2, 0.12),
    )
    cam = _Camera(focal, yaw, pitch)
    walls = random_texture(
        rng,
        ["plain", "noise", "stripes", "bricks", "plain"],
        uniform(rng, 0.5, 1.5),
        (0.0, 0.35),
        (0.55, 0.92),
        subtle=True,
    )
    back = walls
    if rng.random() < 0.5:
        back = random_texture(
            rng,
            ["bricks", "stripes", "planks", "marble", "noise"],
            uniform(rng, 0.6, 1.5),
            (0.0, 0.5),
            (0.35, 0.9),
        )
    floor = random_texture(
        rng,
        ["planks", "checker", "noise", "marble", "planks"],
        uniform(rng, 0.8, 2.5),
        (0.05, 0.6),
        (0.25, 0.8),
    )
    ceiling = TextureSpec(
        "plain", new_seed(rng), albedo_color(rng, (0.0, 0.1), (0.8, 0.95)), period=2.0
    )
    skirting = albedo_color(rng, (0.0, 0.3), (0.2, 0.9))
    ambient = scaled(light_color(rng, 0.0), uniform(rng, 0.008, 0.04))
    lights, lamps = _indoor_lights(rng, room, cam)
    decals, sun_dir, sun_irr = _indoor_decals(
        rng, room, cam, lamps[0][1] if lamps else None
    )
    # Props must leave the first lamp and the middle of the door visible.
    keepout = [(*lamps[0][1].center, 2.6 * lamps[0][1].size)] if lamps else []
    door = next(d for d in decals if d.kind == "door")
    u0, v0, u1, v1 = door.rect
    ends = [
        cam.project(_wall_point(room, door.plane, u, (v0 + v1) / 2))[0]
        for u in (u0, u1)
    ]
    if ends[0] is not None and ends[1] is not None:
        mid = ((ends[0][0] + ends[1][0]) / 2, (ends[0][1] + ends[1][1]) / 2)
        width = math.hypot(ends[0][0] - ends[1][0], ends[0][1] - ends[1][1])
        keepout.append((*mid, 0.3 * width))
    spec = IndoorSpec(
        focal=focal,
        yaw=yaw,
        pitch=pitch,
        room=room,
        floor=floor,
        ceiling=ceiling,
        walls=walls,
        back_wall=back,
        skirting=skirting,
        lights=tuple(lights),
        ambient=ambient,
        decals=tuple(decals),
        sun_direction=sun_dir,
        sun_irradiance=sun_irr,
    )
    objects = lamps + _indoor_props(rng, spec, cam, keepout)
    objects.sort(key=lambda t: -t[0])  # far first
    return spec, [o for _, o in objects]


def _key_light(spec: IndoorSpec, cam: _Camera, centre):
    """Light direction (camera coordinates), irradiance and ambient at a point."""
    contrib = []
    for light in spec.lights:
        v = [a - b for a, b in zip(light.position, centre)]
        d2 = max(dot(v, v), 0.09)
        contrib.append((sum(light.intensity) / 3 / d2, v, d2, light))
    contrib.sort(key=lambda t: -t[0])
    _, v, d2, key = contrib[0]
    irr = scaled(key.intensity, min(1.0 / d2, 25.0))
    amb = [1.5 * a for a in spec.ambient]
    for _, _, d2o, other in contrib[1:]:
        amb = [a + 0.3 * i / d2o for a, i in zip(amb, other.intensity)]
    for dec in spec.decals:
        if dec.kind == "window":
            u0, v0, u1, v1 = dec.rect
            mid = _wall_point(spec.room, dec.plane, (u0 + u1) / 2, (v0 + v1) / 2)
            w = [a - b for a, b in zip(mid, centre)]
            k = 0.25 * (u1 - u0) * (v1 - v0) / max(dot(w, w), 1.0)
            amb = [a + k * r for a, r in zip(amb, dec.radiance)]
    light_cam = mat_t_vec(cam.rot, unit_vector(v))
    return unit_vector(light_cam), irr, tuple(float(a) for a in amb), key


def _indoor_lights(rng, room, cam: _Camera):
    """Point lights, the first one visible, and the (depth, sprite) of visible bulbs."""
    xl, xr, fy, cy, zb = room
    lights, lamps = [], []
    for i in range(int(rng.integers(1, 4))):
        pos = None
        for _ in range(40):
            if i == 0:  # through a random pixel, so that it is in view
                d = cam.ray(uniform(rng, 0.12, 0.88), uniform(rng, 0.12, 0.88))
                t = _exit_distance(room, d) * uniform(rng, 0.3, 0.85)
                p = tuple(c * t for c in d)
            else:
                x, y = uniform(rng, xl, xr), uniform(rng, cy, fy - 0.5)
                p = (x, y, uniform(rng, 0.5, zb))
            if xl + 0.2 < p[0] < xr - 0.2 and cy + 0.15 < p[1] < fy - 0.35:
                if 0.8 < p[2] < zb - 0.2:
                    pos = p
                    break
        if pos is None:
            pos = ((xl + xr) / 2, cy + 0.6, zb * 0.6)
        color = light_color(rng)
        shaded = rng.random() < 0.4
        light = PointLight(
            position=tuple(float(x) for x in pos),
            intensity=scaled(color, uniform(rng, 1.5, 5.0)),
            lobe=uniform(rng, 2.0, 5.0) if shaded else 0.0,
        )
        lights.append(light)
        yx, depth = cam.project(pos)
        if not _in_frame(yx, -0.05):
            continue
        radius, glow = uniform(rng, 0.03, 0.07), uniform(rng, 1.3, 3.0)
        # The first lamp is a bright globe big enough to fill >= 0.1 % of the frame.
        size = max(radius * cam.focal / depth, 0.02 if i == 0 else 0.006)
        lamps.append(
            (
                depth,
                ObjectSpec(
                    kind="lamp",
                    center=yx,
                    size=size,
                    aspect=uniform(rng, 0.8, 1.3),
                    texture=random_texture(rng, ["plain", "stripes"], 1.0, (0.0, 0.5)),
                    light=(0.0, -1.0, 0.0),
                    irradiance=scaled(color, 0.3),
                    ambient=scaled(color, 0.2),
                    emission=scaled(color, float(10 ** rng.uniform(3.3, 4.5))),
                    glow=glow,
                    glow_gain=uniform(rng, 0.02, 0.08)
                    / glow**2,  # 1-4 % of the bulb's flux
                    shape=(1.0 if shaded else 0.0,),
                    movable=False,
                ),
            )
        )
        if not shaded and pos[1] - cy < 1.3:  # pendant: a cord to the ceiling
            top, _ = cam.project((pos[0], cy, pos[2]))
            if top is not None:
                length = math.hypot(yx[0] - top[0], yx[1] - top[1]) / 2
                angle = math.atan2(yx[1] - top[1], yx[0] - top[0])
                lamps.append(
                    (
                        depth + 0.01,
                        ObjectSpec(
                            kind="pole",
                            center=((yx[0] + top[0]) / 2, (yx[1] + top[1]) / 2),
                            size=max(length, 1e-3),
                            aspect=0.004 / max(length, 1e-3),
                            rotation=-angle,
                            texture=TextureSpec("plain", 0, (0.02, 0.02, 0.02)),
                            movable=False,
                        ),
                    )
                )
    return lights, lamps


def _indoor_decals(rng, room, cam: _Camera, lamp: ObjectSpec | None):
    """Windows, one visible door (away from the lamp's glow) and pictures; sun
    direction and irradiance."""
    xl, xr, fy, cy, zb = room
    decals, rects = [], {2: [], 3: [], 4: []}
    glare = (*lamp.center, 0.22) if lamp is not None else (9.0, 9.0, 0.0)

    def place(width, height, bottom, visible, tries=40):
        for _ in range(tries):
            plane = int(rng.choice([4, 2, 3], p=[0.5, 0.25, 0.25]))
            rect = _wall_rect(rng, room, plane, width, height, bottom)
            mid = _wall_point(
                room, plane, (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
            )
            yx, _ = cam.project(mid)
            seen = _in_frame(yx, 0.12) and not overlaps(yx, 0.0, glare)
            if (not visible or seen) and _disjoint(rect, rects[plane]):
                rects[plane].append(rect)
                return plane, rect
        return None

    for _ in range(int(rng.choice(3, p=[0.3, 0.45, 0.25]))):
        got = place(
            uniform(rng, 0.7, 2.0),
            uniform(rng, 0.9, 1.7),
            uniform(rng, 0.6, 1.0),
            False,
        )
        if got is not None:
            sky = (0.8, 0.9, 1.0) if rng.random() < 0.7 else (1.0, 0.8, 0.6)
            decals.append(
                Decal(
                    "window",
                    got[0],
                    got[1],
                    scaled(sky, float(10 ** rng.uniform(0.8, 2.0))),
                    TextureSpec("fbm", new_seed(rng), period=1.5),
                    (int(rng.integers(1, 4)), int(rng.integers(1, 3))),
                )
            )
    got = place(uniform(rng, 0.8, 1.1), uniform(rng, 1.95, 2.2), 0.0, True, 60)
    if got is None:  # straight ahead on the back wall
        d = tuple(row[2] for row in cam.rot)  # viewing direction
        x = min(max(d[0] * zb / max(d[2], 0.1), xl + 0.6), xr - 0.6)
        got = (4, (x - 0.45, fy - 2.05, x + 0.45, fy))
    dark = float(10 ** rng.uniform(-3.0, -2.3))
    decals.append(
        Decal("door", got[0], got[1], (dark, dark, dark * uniform(rng, 0.8, 1.2)))
    )
    for _ in range(int(rng.integers(0, 4))):
        w, h = uniform(rng, 0.4, 1.2), uniform(rng, 0.3, 0.9)
        got = place(w, h, 1.55 - h / 2, False, 10)
        if got is not None:
            tex = random_texture(
                rng,
                ["noise", "stripes", "checker", "marble"],
                uniform(rng, 0.3, 1.0),
                (0.3, 0.9),
            )
            decals.append(Decal("picture", got[0], got[1], texture=tex))
    sun, sun_irr = (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)
    windows = [d for d in decals if d.kind == "window"]
    if windows and rng.random() < 0.55:
        win = windows[int(rng.integers(len(windows)))]
        axis = {2: 0, 3: 0, 4: 2}[win.plane]
        inward = {2: 1.0, 3: -1.0, 4: -1.0}[win.plane]
        elev, az = uniform(rng, 0.3, 0.9), uniform(rng, -0.8, 0.8)
        out = [0.0, 0.0, 0.0]
        out[axis] = -inward * math.cos(elev) * math.cos(az)
        out[2 - axis] = math.cos(elev) * math.sin(az)
        out[1] = -math.sin(elev)
        sun = unit_vector(out)
        sun_irr = scaled(light_color(rng, 0.0), uniform(rng, 6.0, 30.0))
    return decals, sun, sun_irr


def _indoor_props(rng, spec: IndoorSpec, cam: _Camera, keepout):
    """(depth, sprite) of furniture and props standing on the floor."""
    xl, xr, fy, _, zb = spec.room
    props = []
    for _ in range(int(rng.integers(2, 8))):
        kind = str(
            rng.choice(["box", "box", "sphere", "blob", "pole", "bush", "panel"])
        )
        phys = uniform(rng, 1.2, 2.4) if kind == "pole" else uniform(rng, 0.3, 1.4)
        fields = prop_fields(rng, kind, phys)
        for _ in range(20):
            x, z = uniform(rng, xl + 0.3, xr - 0.3), uniform(rng, 0.9, zb - 0.3)
            base, depth = cam.project((x, fy, z))
            centre, _ = cam.project((x, fy - phys / 2, z))
            if base is None or centre is None:
                continue
            if not (-0.05 < base[1] < 1.05 and 0.15 < base[0] < 1.15):
                continue
            size = phys / 2 * cam.focal / depth
            if kind == "box":
                fields["shape"] = (
                    -(centre[1] - 0.5) * uniform(rng, 0.2, 0.6),
                    -uniform(rng, 0.1, 0.3),
                )
            probe = ObjectSpec(kind=kind, center=centre, size=size, **fields)
            reach = extent(probe) * size
            if 0.006 < size < 0.5 and not any(
                overlaps(centre, reach, k) for k in keepout
            ):
                break
        else:
            continue
        light, irr, amb, key = _key_light(spec, cam, (x, fy - phys / 2, z))
        # Shadow on the floor, away from the key light.
        lp = key.position
        away = (x - lp[0], z - lp[2])
        height = max(fy - lp[1] - phys, 0.3)
        k = min(phys / height, 3.0) / max(math.hypot(*away), 1e-3)
        away = (away[0] * k, 0.0, away[1] * k)
        tip, _ = cam.project((x + away[0], fy, z + away[2]))
        offset = (
            (0.0, 0.0)
            if tip is None
            else (
                (tip[0] - base[0]) / size,
                (tip[1] - base[1]) / size,
            )
        )
        props.append(
            (
                depth,
                dataclasses.replace(
                    probe,
                    light=light,
                    irradiance=irr,
                    ambient=amb,
                    shadow=0.7 if kind == "bush" else 0.85,
                    shadow_offset=(float(offset[0]), float(offset[1])),
                ),
            )
        )
    return props
