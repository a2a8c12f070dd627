"""Tests of the procedural synthetic HDR scenes (hdr_keras.synthetic.scenes)."""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest

from hdr_keras.constants import LUMINANCE_WEIGHTS
from hdr_keras.synthetic import textures
from hdr_keras.synthetic.scenes import (
    SceneSpec,
    dynamic_range_stops,
    generate_scene,
    object_bounds,
    render_scene,
    sample_scene,
)

SEEDS = range(20)
SIZE = 256


def _luminance(hdr: np.ndarray) -> np.ndarray:
    return hdr @ np.asarray(LUMINANCE_WEIGHTS, np.float32)


@pytest.fixture(scope="module")
def renders() -> dict[int, np.ndarray]:
    """Seeds 0..19 rendered once at 256x256, shared by the statistics tests."""
    return {seed: generate_scene(seed, SIZE, SIZE) for seed in SEEDS}


def test_sample_scene_is_deterministic_and_hashable():
    a, b = sample_scene(7), sample_scene(7)
    assert isinstance(a, SceneSpec)
    assert a == b and hash(a) == hash(b)
    assert sample_scene(8) != a
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.seed = 3  # type: ignore[misc]


def test_render_is_bitwise_deterministic_without_caches():
    first = [generate_scene(seed, 96, 128) for seed in (0, 1)]
    textures.fbm_tile.cache_clear()
    textures._atlas.cache_clear()
    second = [generate_scene(seed, 96, 128) for seed in (0, 1)]
    for x, y in zip(first, second):
        assert np.array_equal(x, y)
    assert not np.allclose(first[0], first[1])


@pytest.mark.parametrize("height,width", [(64, 64), (96, 160), (160, 96), (37, 53)])
def test_output_contract(height, width):
    for seed in (2, 3):
        hdr = generate_scene(seed, height, width)
        assert hdr.shape == (height, width, 3)
        assert hdr.dtype == np.float32
        assert np.all(np.isfinite(hdr))
        assert hdr.min() >= 1e-6


def test_indoor_and_outdoor_scenes_vary():
    specs = [sample_scene(seed) for seed in SEEDS]
    assert {s.kind for s in specs} == {"indoor", "outdoor"}
    assert len({len(s.objects) for s in specs}) >= 4
    kinds = {o.kind for s in specs for o in s.objects}
    assert {"sphere", "blob", "box", "pole", "lamp", "bush"} <= kinds


def test_every_scene_spans_five_orders_of_magnitude(renders):
    for seed, hdr in renders.items():
        lum = _luminance(hdr)
        lo, hi = np.percentile(lum, [0.1, 99.9])
        assert lum.max() / lum.min() >= 1e5, seed
        assert hi / lo >= 1e3, seed
        assert dynamic_range_stops(hdr) >= math.log2(1e3), seed


def test_scenes_have_both_highlights_and_deep_shadows(renders):
    clipped, shadowed = [], []
    for seed, hdr in renders.items():
        lum = _luminance(hdr)
        p90, p99 = np.percentile(lum, [90, 99])
        # Exposed so that the 90th percentile lands at 0.5, these pixels clip.
        clipped.append(np.mean(lum > 2 * p90))
        # More than 6 stops below the 99th percentile.
        shadowed.append(np.mean(lum < p99 / 64))
        assert clipped[-1] >= 0.003, seed
        assert shadowed[-1] >= 0.02, seed
    assert np.mean(clipped) >= 0.02
    assert np.mean(shadowed) >= 0.2


def test_scenes_are_coloured(renders):
    chroma = [np.median(hdr.max(-1) / hdr.min(-1)) for hdr in renders.values()]
    assert np.mean(np.asarray(chroma) > 1.15) >= 0.5


def test_same_scene_at_two_resolutions():
    for seed in range(3):
        big = generate_scene(seed, 512, 512)
        small = generate_scene(seed, 256, 256)
        down = cv2.resize(big, (256, 256), interpolation=cv2.INTER_AREA)
        a, b = np.log(_luminance(down)), np.log(_luminance(small))
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9, seed


def _static_object(spec: SceneSpec) -> int:
    return next(i for i, o in enumerate(spec.objects) if o.glow == 0 and o.size > 0.03)


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_object_offset_changes_only_pixels_near_that_object(seed):
    spec = sample_scene(seed)
    h = w = 192
    i = _static_object(spec)
    offsets = [(0.0, 0.0, 0.0)] * len(spec.objects)
    moved = list(offsets)
    moved[i] = (10.0, 0.0, 0.0)
    base = render_scene(spec, h, w, offsets)
    shifted = render_scene(spec, h, w, moved)
    changed = np.any(base != shifted, axis=-1)
    assert changed.sum() > 20
    allowed = np.zeros_like(changed)
    for off in (offsets[i], moved[i]):
        box = object_bounds(spec, i, h, w, off)
        if box is not None:
            y0, y1, x0, x1 = box
            allowed[max(y0 - 1, 0) : y1 + 1, max(x0 - 1, 0) : x1 + 1] = True
    assert not np.any(changed & ~allowed)
    # A rotation alone also changes the sprite.
    moved[i] = (0.0, 0.0, 0.3)
    assert not np.array_equal(base, render_scene(spec, h, w, moved))


def test_object_offsets_must_match_objects():
    spec = sample_scene(5)
    with pytest.raises(ValueError, match="one per object"):
        render_scene(spec, 32, 32, [(0.0, 0.0, 0.0)] * (len(spec.objects) + 1))
    with pytest.raises(ValueError):
        render_scene(spec, 0, 32)


@pytest.mark.parametrize(
    "seed,offset", [(0, (0.0, 8.0)), (1, (6.0, 0.0)), (4, (-5, 7))]
)
def test_camera_offset_shifts_the_view(seed, offset):
    spec = sample_scene(seed)
    h = w = 160
    dy, dx = (int(v) for v in offset)
    base = np.log(_luminance(render_scene(spec, h, w)))
    moved = np.log(_luminance(render_scene(spec, h, w, camera_offset=offset)))
    # Content at (y, x) of the base render appears at (y - dy, x - dx).
    a = base[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)]
    b = moved[max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    assert np.median(np.abs(a - b)) < 0.02
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.98
    assert np.median(np.abs(base - moved)) > 0.02 or np.abs(base - moved).max() > 0.5


def test_dynamic_range_stops():
    flat = np.full((8, 8, 3), 0.5, np.float32)
    assert dynamic_range_stops(flat) == pytest.approx(0.0, abs=1e-9)
    two = np.ones((100, 100, 3), np.float32)
    two[:50] = 1024.0
    assert dynamic_range_stops(two) == pytest.approx(10.0, abs=1e-6)
