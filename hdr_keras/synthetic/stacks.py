"""Synthetic dynamic-scene exposure stacks laid out like Kalantari's SIGGRAPH17 data.

One scene (`sample_scene(seed)`) is rendered N times: the reference (middle) frame at
the scene's own geometry, the other frames with the movable objects displaced
(translation and rotation, a constant velocity per object plus a little jitter, so
frames farther from the reference move more; some objects move up to
``max_object_motion`` of the frame, others barely) and the view shifted by a few
pixels (global camera motion). Each frame then goes through a camera:

    Z_i = quantize(clip(f(clip(H_i * t_i, 0, 1)) + noise_i, 0, 1)),  f(x) = x ** (1/gamma)

with t_i = 2 ** bias_i, Gaussian display-domain noise (an independent draw per frame,
one sigma per stack: the same camera took every frame) and 8-bit quantisation.

Radiance units of the target (the convention of Kalantari's data, METHODS.md):
- exposure biases are normalised so the shortest is 0 stops (t_0 = 1);
- ``hdr`` is the linear radiance of the REFERENCE frame's geometry in units where
  every frame linearises to it: H_i = Z_i ** gamma / t_i equals ``hdr`` (up to
  quantisation and noise) wherever frame i is neither saturated nor too dark and
  shows the reference geometry; in particular Z_ref ** gamma / t_ref ~ ``hdr``;
- the radiance scale is chosen so that the ``key_percentile`` of the reference
  frame's per-pixel channel maximum is displayed at ``key_value`` (0.8, jittered by
  up to +-``key_jitter_stops``), lowered by at most ``max_highlight_stops`` when that
  lets the short frame keep the 99.5th percentile below saturation;
- with t_0 = 1 the short frame saturates at radiance 1, so ``hdr`` is clipped to
  [0, 1] (``clip_target=True``), exactly as a target merged from the real bracket:
  nothing above the short frame's saturation is observable.

    stack = generate_stack(seed=7)      # ldr [3, 256, 256, 3], exposure [3], hdr
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from hdr_keras.constants import GAMMA, LDR_BITS
from hdr_keras.ops.camera import quantize
from hdr_keras.ops.exposure import hdr_to_ldr
from hdr_keras.ops.stack import default_reference
from hdr_keras.synthetic.scenes import SceneSpec, render_scene, sample_scene

__all__ = ["BIAS_SETS", "generate_stack"]

BIAS_SETS = ((0.0, 2.0, 4.0), (0.0, 3.0, 6.0))  # Kalantari's brackets, in stops
_STREAM = 0x5A7C  # separates the stack's random stream from sample_scene's


def _biases(rng: np.random.Generator, num_frames: int, biases) -> np.ndarray:
    if biases is None:
        step = 2.0 if rng.random() < 0.5 else 3.0
        return step * np.arange(num_frames, dtype=np.float32)
    values = np.asarray(biases, dtype=np.float32).reshape(-1)
    if values.size != num_frames or not np.all(np.isfinite(values)):
        raise ValueError(
            f"biases must hold {num_frames} finite values (one per frame), got {biases!r}"
        )
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"biases must be strictly increasing, got {biases!r}")
    return values - values[0]


def _object_motion(
    rng: np.random.Generator,
    spec: SceneSpec,
    num_frames: int,
    ref: int,
    size: float,
    max_motion: float,
    max_rotation: float,
) -> np.ndarray:
    """[N, K, 3] (dy, dx, rotation) per frame and object; zero for the reference."""
    offsets = np.zeros((num_frames, len(spec.objects), 3), np.float32)
    steps = np.arange(num_frames, dtype=np.float64) - ref
    span = max(abs(steps[0]), abs(steps[-1]), 1.0)
    movable = [k for k, obj in enumerate(spec.objects) if obj.movable]
    if not movable:
        return offsets
    large = rng.random(len(movable)) < 0.35
    large[rng.integers(len(movable))] = True  # at least one clearly moving object
    for k, is_large in zip(movable, large):
        low, high = (0.4, 1.0) if is_large else (0.0, 0.25)
        distance = rng.uniform(low, high) * max_motion * size  # at the farthest frame
        angle = rng.uniform(0.0, 2.0 * np.pi)
        velocity = distance / span * np.array([np.sin(angle), np.cos(angle)])
        spin = rng.uniform(-1.0, 1.0) * max_rotation / span
        jitter = rng.uniform(-1.0, 1.0, (num_frames, 2)) * 0.01 * size
        jitter[ref] = 0.0
        offsets[:, k, :2] = steps[:, None] * velocity + jitter
        offsets[:, k, 2] = steps * spin
    return offsets


def _radiance_scale(
    rng: np.random.Generator,
    reference: np.ndarray,
    t: np.ndarray,
    ref: int,
    gamma: float,
    key_percentile: float,
    key_value: float,
    key_jitter_stops: float,
    max_highlight_stops: float,
) -> float:
    """Multiplier from scene radiance to target units (module docstring)."""
    peak = reference.max(axis=-1)
    key, high = np.percentile(peak, [100.0 * key_percentile, 99.5])
    jitter = 2.0 ** rng.uniform(-key_jitter_stops, key_jitter_stops)
    scale = key_value**gamma / (max(key, 1e-12) * t[ref]) * jitter
    highlights = 1.0 / (max(high, 1e-12) * t[0])
    return max(min(scale, highlights), scale * 2.0**-max_highlight_stops)


def generate_stack(
    seed: int,
    height: int = 256,
    width: int = 256,
    num_frames: int = 3,
    biases: Sequence[float] | None = None,
    gamma: float = GAMMA,
    max_object_motion: float = 0.2,
    max_rotation: float = 0.35,
    max_camera_shift: float = 0.012,
    noise_sigma: tuple[float, float] = (0.002, 0.01),
    bits: int = LDR_BITS,
    key_percentile: float = 0.9,
    key_value: float = 0.8,
    key_jitter_stops: float = 0.5,
    max_highlight_stops: float = 1.0,
    clip_target: bool = True,
) -> dict:
    """A bracketed LDR stack of a dynamic synthetic scene and its HDR target.

    Deterministic: the same arguments give the same arrays on any machine.

    Args:
        seed: scene seed (`sample_scene(seed)`); also seeds motion, exposure, noise.
        height, width: frame size in pixels.
        num_frames: N >= 2; frame `default_reference(N)` (the middle,
            `hdr_keras.ops.stack`) is the reference.
        biases: N strictly increasing exposure biases in stops (shifted so the first
            is 0); None draws 2- or 3-stop steps, i.e. {0, 2, 4} or {0, 3, 6} for N=3.
        gamma: camera curve Z = x ** (1 / gamma) and its inverse for linearising.
        max_object_motion: largest object displacement between the reference and
            the farthest frame, as a fraction of min(height, width).
        max_rotation: largest object rotation (radians) at the farthest frame.
        max_camera_shift: largest global shift per axis of a non-reference frame,
            as a fraction of min(height, width) (0.012: ~3 px at 256); 0 = static.
        noise_sigma: display-domain Gaussian noise sigma ~ U[low, high], drawn once
            per stack; every frame gets its own noise.
        bits: quantisation bit depth of the LDR frames.
        key_percentile, key_value, key_jitter_stops, max_highlight_stops: exposure
            of the reference frame (module docstring).
        clip_target: clip ``hdr`` to [0, 1], the short frame's saturation level.

    Returns:
        dict of numpy arrays:
        - "ldr": float32 [N, H, W, 3] in [0, 1], display-referred, on the
          1 / (2**bits - 1) grid, sorted by exposure (short first);
        - "exposure": float32 [N] biases in stops, first 0;
        - "hdr": float32 [H, W, 3] linear target of the reference geometry;
        - "reference": int, the reference frame's index;
        - "object_offsets": float32 [N, K, 3] (dy, dx, rotation) per object, pixels;
        - "camera_offsets": float32 [N, 2] (dy, dx) view shift per frame, pixels;
        - "noise_sigma": float, the noise sigma; "scale": float, the multiplier
          from the scene's radiance to the target's units.
    """
    if num_frames < 2:
        raise ValueError(f"num_frames must be >= 2, got {num_frames}")
    rng = np.random.default_rng([int(seed), _STREAM])
    spec = sample_scene(seed)
    ref = default_reference(num_frames)
    size = float(min(height, width))
    exposure = _biases(rng, num_frames, biases)
    times = (2.0 ** exposure.astype(np.float64)).astype(np.float32)

    offsets = _object_motion(
        rng, spec, num_frames, ref, size, max_object_motion, max_rotation
    )
    cameras = rng.uniform(-1.0, 1.0, (num_frames, 2)) * max_camera_shift * size
    cameras[ref] = 0.0
    cameras = cameras.astype(np.float32)
    radiance = np.stack(
        [
            render_scene(spec, height, width, offsets[i], tuple(cameras[i]))
            for i in range(num_frames)
        ]
    )
    scale = _radiance_scale(
        rng,
        radiance[ref],
        times,
        ref,
        gamma,
        key_percentile,
        key_value,
        key_jitter_stops,
        max_highlight_stops,
    )
    radiance *= np.float32(scale)

    sigma = np.float32(rng.uniform(noise_sigma[0], noise_sigma[1]))
    display = np.asarray(hdr_to_ldr(radiance, times[:, None, None, None], gamma))
    noise = rng.standard_normal(display.shape, dtype=np.float32)
    ldr = np.asarray(quantize(display + sigma * noise, bits))

    hdr = radiance[ref]
    if clip_target:
        hdr = np.minimum(hdr, 1.0)
    return {
        "ldr": ldr.astype(np.float32),
        "exposure": exposure,
        "hdr": np.ascontiguousarray(hdr, dtype=np.float32),
        "reference": ref,
        "object_offsets": offsets,
        "camera_offsets": cameras,
        "noise_sigma": float(sigma),
        "scale": float(scale),
    }
