"""Outdoor scenes: the sun in view over a textured ground, buildings, trees, props.

Guarantees behind the >= 5 orders of magnitude of every scene: the sun disc
(1e4-1e5) is in view, above the distant terrain and not covered by any sprite, and
at least one building stands with its door uncovered; its front is lit by the sky
only (the sun is ahead of the camera), so its door and windows are near-black
(~1e-3 of a sunlit white surface).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from hdr_keras.synthetic.backgrounds import OutdoorSpec
from hdr_keras.synthetic.scene_sampling import (
    light_color,
    new_seed,
    overlaps,
    prop_fields,
    random_texture,
    scaled,
    uniform,
    unit_vector,
)
from hdr_keras.synthetic.sprites import ObjectSpec


def sample_outdoor(rng: np.random.Generator):
    """(OutdoorSpec, [ObjectSpec]) of a random outdoor scene, sun in view."""
    golden = rng.random() < 0.35
    horizon, focal, cam_h = (
        uniform(rng, 0.42, 0.72),
        uniform(rng, 0.8, 1.5),
        uniform(rng, 1.2, 2.2),
    )
    if golden:
        sun_y = uniform(rng, max(0.06, horizon - 0.3), horizon - 0.1)
    else:
        sun_y = uniform(rng, 0.06, horizon - 0.14)
    sun_x, sun_r = uniform(rng, 0.1, 0.9), uniform(rng, 0.012, 0.022)
    sun_col = (
        (1.0, uniform(rng, 0.62, 0.8), uniform(rng, 0.3, 0.5))
        if golden
        else light_color(rng, 0.0)
    )
    if golden:
        zenith = scaled((0.1, 0.12, 0.28), uniform(rng, 0.6, 1.4))
        horiz = scaled(
            (1.0, uniform(rng, 0.45, 0.65), uniform(rng, 0.2, 0.4)),
            uniform(rng, 0.5, 1.2),
        )
    else:
        zenith = scaled((0.1, uniform(rng, 0.18, 0.28), 0.6), uniform(rng, 0.5, 1.3))
        horiz = scaled((0.55, 0.68, 0.85), uniform(rng, 0.6, 1.3))
    ambient = tuple(float(0.5 * z + 0.25 * h) for z, h in zip(zenith, horiz))
    sun_irr = scaled(sun_col, uniform(rng, 0.8, 1.3))
    sun_elev = math.atan((horizon - sun_y) / focal)
    r_ang = sun_r / focal
    terrain = str(rng.choice(["hills", "city", "flat"], p=[0.45, 0.3, 0.25]))
    t_height = min(uniform(rng, 0.03, 0.14), max((sun_elev - 3 * r_ang) / 2.7, 0.005))
    t_tex = random_texture(
        rng, ["noise"], 0.15, (0.2, 0.6), (0.2, 0.5), uniform(rng, 0.15, 0.35)
    )
    if terrain == "city":
        t_tex = random_texture(rng, ["noise"], 0.08, (0.0, 0.2), (0.25, 0.5))
    ground = random_texture(
        rng,
        ["grass", "noise", "bricks", "checker", "planks", "grass"],
        uniform(rng, 0.6, 3.0),
        (0.1, 0.6),
        (0.3, 0.75),
        uniform(rng, 0.05, 0.35) if rng.random() < 0.85 else None,
    )
    edge = (0.0, 0.0, math.inf)
    if rng.random() < 0.35:
        row = uniform(rng, horizon + 0.12, 0.95)
        z0 = cam_h * focal / (row - horizon)
        x0 = (uniform(rng, 0.2, 0.8) - 0.5) / focal * z0
        phi = uniform(rng, 0, 2 * math.pi)
        edge = (math.cos(phi), math.sin(phi), math.cos(phi) * x0 + math.sin(phi) * z0)
    spec = OutdoorSpec(
        horizon=horizon,
        focal=focal,
        camera_height=cam_h,
        sun=(sun_y, sun_x),
        sun_radius=r_ang,
        sun_radiance=scaled(sun_col, float(10 ** rng.uniform(4.0, 5.0))),
        aureole=scaled(sun_col, float(10 ** rng.uniform(1.6, 2.6))),
        aureole_width=r_ang * uniform(rng, 2.5, 5.0),
        sun_irradiance=sun_irr,
        sky_zenith=zenith,
        sky_horizon=horiz,
        sky_ambient=ambient,
        clouds=uniform(rng, 0.05, 0.55) if rng.random() < 0.6 else 0.0,
        cloud_seed=new_seed(rng),
        terrain=terrain,
        terrain_height=t_height,
        terrain_seed=new_seed(rng),
        terrain_texture=t_tex,
        terrain_haze=uniform(rng, 0.25, 0.65),
        haze_distance=uniform(rng, 60.0, 400.0),
        ground=ground,
        shade=uniform(rng, 0.1, 0.45) if rng.random() < 0.5 else 0.0,
        shade_seed=new_seed(rng),
        shadow_edge=edge,
    )
    return spec, _outdoor_objects(rng, spec, golden)


def _outdoor_objects(rng, bg: OutdoorSpec, golden: bool) -> list[ObjectSpec]:
    """Buildings, trees and props standing on the ground, farthest first."""
    pitch = math.atan((bg.horizon - 0.5) / bg.focal)
    s = unit_vector(((bg.sun[1] - 0.5) / bg.focal, (bg.sun[0] - 0.5) / bg.focal, 1.0))
    s_right, s_fwd = s[0], s[1] * math.sin(pitch) + s[2] * math.cos(pitch)
    elev = math.asin(float(-s[1] * math.cos(pitch) + s[2] * math.sin(pitch)))
    g = unit_vector((s_right, s_fwd))
    length = min(1.0 / math.tan(max(elev, 0.05)), 3.5)
    sun_disc = (bg.sun[0], bg.sun[1], 3.0 * bg.sun_radius * bg.focal + 0.01)
    light = unit_vector((s[0], s[1], s[2] * uniform(rng, 0.15, 0.7)))

    def make(kind, base_y, base_x, phys, shadow=0.9, **fields):
        delta = base_y - bg.horizon
        size = phys / 2 * delta / bg.camera_height
        center = (base_y - size, base_x)
        shaded = rng.random() < 0.15
        return ObjectSpec(
            kind=kind,
            center=center,
            size=size,
            light=light,
            irradiance=scaled(bg.sun_irradiance, 0.03 if shaded else 1.0),
            ambient=scaled(bg.sky_ambient, uniform(rng, 0.8, 1.2)),
            shadow=0.0 if shaded else shadow,
            shadow_offset=(
                float(2 * length * g[1] * delta / bg.focal),
                float(-2 * length * g[0]),
            ),
            **fields,
        )

    keepout = [sun_disc]  # the sun, then the first building's door, stay visible

    def fits(obj: ObjectSpec, ext: float) -> bool:
        r = ext * obj.size
        return 0.006 < obj.size < 0.5 and not any(
            overlaps(obj.center, r, k) for k in keepout
        )

    objects = []
    n_build = int(rng.integers(2, 4)) if bg.terrain == "city" else 1
    n_trees = int(rng.integers(0, 3 if bg.terrain == "city" else 4))
    n_props = int(rng.integers(1, 7))
    plan = ["building"] * n_build + ["tree"] * n_trees + ["prop"] * n_props
    for what in plan:
        for _ in range(20):
            base_y = uniform(rng, bg.horizon + 0.03, 1.12)
            base_x = uniform(rng, -0.05, 1.05)
            if what == "building":
                city = bg.terrain == "city"
                phys = uniform(rng, 6.0, 20.0) if city else uniform(rng, 2.5, 5.0)
                # Far enough that it fits in the frame (half height <= 0.45).
                near = min(0.25, 0.9 * bg.camera_height / phys)
                base_y = uniform(rng, bg.horizon + 0.01, bg.horizon + near)
                aspect = uniform(rng, 0.5, 2.0)
                wall = random_texture(
                    rng,
                    ["windows"] if city else ["bricks", "planks", "noise"],
                    24.0 / phys if city else uniform(rng, 0.3, 0.8),
                    (0.0, 0.4),
                )
                top = base_y - phys * (base_y - bg.horizon) / bg.camera_height
                door_w = min(1.0 / phys, 0.6 * aspect)
                obj = make(
                    "box",
                    base_y,
                    base_x,
                    phys,
                    0.97,
                    aspect=aspect,
                    texture=wall,
                    shape=(
                        -(base_x - 0.5) * uniform(rng, 0.3, 0.9),
                        -min(max((top - bg.horizon) * 3, 0.0), 0.4),
                        uniform(rng, -aspect + door_w, aspect - door_w),
                        door_w,
                        min(4.2 / phys, 1.2),
                    ),
                    movable=False,
                )
                ext = math.hypot(aspect + 1.0, 1.4)
                group = [obj]
            elif what == "tree":
                h_t = uniform(rng, 2.0, 5.0)
                trunk = make(
                    "pole", base_y, base_x, h_t, 0.6, **prop_fields(rng, "pole", h_t)
                )
                trunk = dataclasses.replace(
                    trunk,
                    texture=random_texture(
                        rng, ["bark"], 0.6, (0.2, 0.5), (0.2, 0.45), 0.08
                    ),
                    aspect=uniform(rng, 0.15, 0.3) / h_t,
                    specular=0.0,
                )
                crown = uniform(rng, 1.0, 3.0) / (
                    h_t / 2
                )  # crown radius in trunk sizes
                cy = trunk.center[0] - trunk.size * (1.0 + 0.5 * crown)
                fields = prop_fields(rng, "bush", 1.0)
                canopy = ObjectSpec(
                    kind="bush",
                    center=(cy, base_x),
                    size=trunk.size * crown,
                    light=trunk.light,
                    irradiance=trunk.irradiance,
                    ambient=trunk.ambient,
                    **fields,
                )
                # Trees stay put (and trunk and crown must move together).
                trunk = dataclasses.replace(trunk, movable=False)
                canopy = dataclasses.replace(canopy, movable=False)
                obj, ext, group = canopy, 1.25 * canopy.aspect, [trunk, canopy]
            else:
                kind = str(
                    rng.choice(["sphere", "blob", "box", "pole", "panel", "bush"])
                )
                phys = (
                    uniform(rng, 1.5, 4.0) if kind == "pole" else uniform(rng, 0.3, 1.6)
                )
                fields = prop_fields(rng, kind, phys)
                if kind == "box":
                    fields["shape"] = (
                        -(base_x - 0.5) * uniform(rng, 0.2, 0.6),
                        -uniform(rng, 0.1, 0.35),
                    )
                obj = make(
                    kind, base_y, base_x, phys, 0.7 if kind == "bush" else 0.9, **fields
                )
                ext, group = 1.6 * max(obj.aspect, 1.0), [obj]
            if fits(obj, ext):
                if what == "building" and len(keepout) == 1:
                    _, _, door_x, door_w, door_h = obj.shape
                    door_y = obj.center[0] + (1.0 - door_h / 2) * obj.size
                    door = (
                        door_y,
                        obj.center[1] + door_x * obj.size,
                        door_w * obj.size,
                    )
                    keepout.append(door)
                key = base_y
                objects.extend((key, i, o) for i, o in enumerate(group))
                break
    objects.sort(key=lambda t: t[:2])  # base row: far first; trunk before crown
    return [o for _, _, o in objects]
