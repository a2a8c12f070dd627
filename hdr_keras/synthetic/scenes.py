"""Procedural, deterministic synthetic HDR scenes: the package's default training data.

A scene is a background (an outdoor sky with a sun over a textured ground, or a room
lit by lamps, windows and sunlight) plus a painter-ordered tuple of sprites (spheres,
blobs, boxes and buildings, poles, panels, lamps, bushes) with alpha masks, cast
shadows and bloom. Everything is sampled from one integer seed into a frozen
:class:`SceneSpec` in resolution-independent units, then rendered in numpy:

    hdr = generate_scene(seed=3, height=512, width=512)  # float32 [512, 512, 3]

The output is linear RGB radiance, finite, >= 1e-6, scaled so that a white diffuse
surface under the key light has radiance about 1; suns and bare bulbs reach 1e3-1e5,
shadows 1e-2-1e-1 and dark openings 1e-3. ``render_scene`` re-renders a spec with
objects displaced (per-object (dy, dx, rotation) in pixels) and the view shifted
(``camera_offset`` in pixels: the image content moves by minus the offset), which is
what a generator of dynamic exposure stacks needs.

Positions are fractions of the frame's central min(H, W) square (the whole frame when
it is square), sizes are fractions of min(H, W), so one seed renders the same scene at
every resolution.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from hdr_keras.constants import LUMINANCE_WEIGHTS
from hdr_keras.synthetic.backgrounds import (
    Decal,
    IndoorSpec,
    OutdoorSpec,
    PointLight,
    render_indoor,
    render_outdoor,
)
from hdr_keras.synthetic.indoor_sampling import sample_indoor
from hdr_keras.synthetic.outdoor_sampling import sample_outdoor
from hdr_keras.synthetic.sprites import (
    ObjectSpec,
    bounds,
    glow_field,
    place,
    render_object,
    shadow_mask,
)
from hdr_keras.synthetic.textures import TextureSpec

__all__ = [
    "Decal",
    "IndoorSpec",
    "ObjectSpec",
    "OutdoorSpec",
    "PointLight",
    "SceneSpec",
    "TextureSpec",
    "dynamic_range_stops",
    "generate_scene",
    "object_bounds",
    "render_scene",
    "sample_scene",
]

MIN_RADIANCE = 1e-6
OUTDOOR_PROBABILITY = 0.55


@dataclasses.dataclass(frozen=True)
class SceneSpec:
    """Everything needed to render one scene.

    Attributes:
        seed: the seed it was sampled from.
        background: an ``OutdoorSpec`` or an ``IndoorSpec``.
        objects: sprites in painter's order (farthest first).
    """

    seed: int
    background: OutdoorSpec | IndoorSpec
    objects: tuple[ObjectSpec, ...]

    @property
    def kind(self) -> str:
        """Either "outdoor" or "indoor"."""
        return "outdoor" if isinstance(self.background, OutdoorSpec) else "indoor"


def sample_scene(seed: int) -> SceneSpec:
    """The scene of ``seed`` (same seed, same spec, on any machine)."""
    rng = np.random.default_rng(seed)
    if rng.random() < OUTDOOR_PROBABILITY:
        background, objects = sample_outdoor(rng)
    else:
        background, objects = sample_indoor(rng)
    return SceneSpec(seed=int(seed), background=background, objects=tuple(objects))


def _check_size(height: int, width: int) -> None:
    if int(height) != height or int(width) != width or height < 1 or width < 1:
        raise ValueError(
            f"height and width must be positive ints, got {height}x{width}"
        )


def _offsets(spec: SceneSpec, object_offsets) -> list[tuple[float, float, float]]:
    n = len(spec.objects)
    if object_offsets is None:
        return [(0.0, 0.0, 0.0)] * n
    offsets = [tuple(float(x) for x in o) for o in object_offsets]
    if len(offsets) != n or any(len(o) != 3 for o in offsets):
        raise ValueError(
            f"object_offsets must hold {n} (dy, dx, rotation) triples, one per "
            f"object; got {object_offsets!r}"
        )
    return offsets


def object_bounds(
    spec: SceneSpec,
    index: int,
    height: int,
    width: int,
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0),
    camera_offset: tuple[float, float] = (0.0, 0.0),
) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) pixels touched by object ``index`` and its shadow, or None.

    Bloom around emitters is not included: it spans the whole frame.
    """
    obj = spec.objects[index]
    return bounds(obj, place(obj, height, width, offset, camera_offset), height, width)


def render_scene(
    spec: SceneSpec,
    height: int,
    width: int,
    object_offsets: Sequence[tuple[float, float, float]] | None = None,
    camera_offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Render ``spec`` to float32 [height, width, 3] linear RGB radiance.

    Args:
        spec: the scene.
        height, width: output size in pixels.
        object_offsets: optional (dy, dx, rotation_radians) per object, in output
            pixels, displacing each sprite (and its shadow) from its place.
        camera_offset: (dy, dx) in pixels the view is moved by (global motion):
            content at pixel (y, x) of the unshifted render appears at
            (y - dy, x - dx).

    Returns:
        float32 [height, width, 3], finite, >= 1e-6.
    """
    _check_size(height, width)
    height, width = int(height), int(width)
    offsets = _offsets(spec, object_offsets)
    cam = (float(camera_offset[0]), float(camera_offset[1]))
    if isinstance(spec.background, OutdoorSpec):
        base, direct = render_outdoor(spec.background, height, width, cam)
    else:
        base, direct = render_indoor(spec.background, height, width, cam)
    places = [
        place(o, height, width, off, cam) for o, off in zip(spec.objects, offsets)
    ]
    visible = np.ones((height, width), np.float32)
    occlusion = np.ones((height, width), np.float32)
    for obj, p in zip(spec.objects, places):
        box = bounds(obj, p, height, width) if obj.shadow > 0 else None
        if box is not None:
            block_direct, block_ambient = shadow_mask(obj, p, box)
            y0, y1, x0, x1 = box
            visible[y0:y1, x0:x1] *= 1.0 - block_direct
            occlusion[y0:y1, x0:x1] *= 1.0 - block_ambient
    image = (base + direct * visible) * occlusion  # channel-first [3, H, W]
    for obj, p in zip(spec.objects, places):
        sprite = render_object(obj, p, height, width)
        if sprite is not None:
            (y0, y1, x0, x1), rad, alpha = sprite
            region = image[:, y0:y1, x0:x1]
            region += (rad - region) * alpha
        if obj.glow > 0 and obj.glow_gain > 0:
            image += glow_field(obj, p, height, width)
    np.clip(image, MIN_RADIANCE, 1e9, out=image)
    return np.ascontiguousarray(image.transpose(1, 2, 0), dtype=np.float32)


def generate_scene(seed: int, height: int = 512, width: int = 512) -> np.ndarray:
    """float32 [height, width, 3] linear RGB radiance of the scene of ``seed``."""
    return render_scene(sample_scene(seed), height, width)


def dynamic_range_stops(hdr: np.ndarray) -> float:
    """log2 of the 99.9th over the 0.1th percentile of the luminance of [..., 3]."""
    lum = np.asarray(hdr, np.float64) @ np.asarray(LUMINANCE_WEIGHTS, np.float64)
    lo, hi = np.percentile(lum, [0.1, 99.9])
    return float(np.log2(max(hi, 1e-12) / max(lo, 1e-12)))
