"""Alignment of an exposure stack to its reference frame.

- `reexpose(ldr, from_time, to_time)`: an LDR shot as if taken with another exposure
  time, through the linear domain (`hdr_keras.ops.exposure`), clipped. The one
  re-exposure used by both alignments below.
- `align_stack(ldr, exposure)`: Kalantari & Ramamoorthi's alignment (METHODS.md
  section 1), TF ops usable in a model graph: every frame warped onto the reference
  with optical flow (`hdr_keras.ops.flow`).
- `align_to_reference(frames, exposure_biases)`: Wu et al. 2018's background
  pre-alignment (METHODS.md section 2), plain NumPy/OpenCV for data preparation
  (not part of any model graph). For each non-reference frame i:
  1. exposure equalisation: the darker of (frame i, reference) is re-exposed to the
     brighter one's exposure, so both images show the same content and the same
     saturated regions; both -> 8-bit grey;
  2. SIFT (default) or ORB keypoints, brute-force matching with Lowe's ratio test;
  3. `cv2.findHomography` with RANSAC: H_i maps frame-i pixel coordinates to
     reference coordinates;
  4. frame i is warped into the reference view (bilinear); pixels that come from
     outside frame i are invalid and filled with the reference frame re-exposed to
     frame i's exposure.
  Too few matches or inliers (or a degenerate estimate) -> identity, with a warning.
  Wu et al. leave foreground motion to the network.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import tensorflow as tf

from hdr_keras.constants import GAMMA
from hdr_keras.ops.exposure import ev_to_time, hdr_to_ldr, ldr_to_hdr
from hdr_keras.ops.flow import estimate_flow, outside_mask, warp
from hdr_keras.ops.stack import default_reference

DETECTORS = ("sift", "orb")
MIN_MATCHES = 12  # good matches needed to attempt an estimate
MIN_INLIERS = 10  # RANSAC inliers needed to accept it
RATIO = 0.75  # Lowe's ratio test
RANSAC_THRESHOLD = 3.0  # reprojection error (pixels) of a RANSAC inlier
MAX_FEATURES = 5000

# ------------------------------------------------------------------------- re-exposure


def reexpose(ldr, from_time, to_time, gamma: float = GAMMA) -> tf.Tensor:
    """LDR shot with exposure time `from_time` as if shot with `to_time`.

    Through the linear domain with `hdr_keras.ops.exposure`:
    clip((Z ** gamma / from_time * to_time) ** (1 / gamma), 0, 1). Times broadcast
    against `ldr` (scalars, or e.g. [B, 1, 1, 1]).
    """
    ldr = tf.convert_to_tensor(ldr, tf.float32)
    hdr = ldr_to_hdr(ldr, tf.cast(from_time, tf.float32), gamma)
    return tf.convert_to_tensor(hdr_to_ldr(hdr, tf.cast(to_time, tf.float32), gamma))


def _reexpose_ev(ldr: np.ndarray, from_ev: float, to_ev: float) -> np.ndarray:
    """`reexpose` of an LDR [H, W, 3] in [0, 1] from `from_ev` to `to_ev` stops, as
    a float32 NumPy array."""
    return np.asarray(reexpose(ldr, ev_to_time(from_ev), ev_to_time(to_ev)))


# ----------------------------------------------------------------------------- flow


def align_stack(ldr, exposure, reference=None, **flow_params):
    """Kalantari's alignment: every frame warped onto the reference frame.

    For each non-reference frame: the darker of (frame, reference) is re-exposed to
    the brighter one's exposure, the flow reference <- frame is estimated on the
    pair (`estimate_flow`, `flow_params`), the ORIGINAL frame is warped with it
    (bicubic) and clipped to [0, 1]; pixels whose flow leaves the frame take the
    reference re-exposed to that frame's exposure.

    Args:
        ldr: float [B, N, H, W, 3] in [0, 1], N >= 2 (static or dynamic N).
        exposure: float [B, N] exposure biases in stops (t = 2 ** stops).
        reference: index of the reference frame (an int or a scalar int tensor);
            None = `hdr_keras.ops.stack.default_reference(N)` (the middle frame).
        **flow_params: keyword arguments of `estimate_flow`.
    Returns:
        (aligned float32 [B, N, H, W, 3], valid float32 [B, N, H, W, 1]): valid is
        0 where a frame was filled from the reference, 1 elsewhere and on the
        reference frame (which is returned unchanged).
    """
    ldr = tf.convert_to_tensor(ldr)
    if ldr.shape.rank is not None and ldr.shape.rank != 5:
        raise ValueError(f"ldr must be rank 5 [B, N, H, W, 3], got shape {ldr.shape}")
    if ldr.shape[-1] is not None and ldr.shape[-1] != 3:
        raise ValueError(f"ldr must have 3 channels (RGB), got shape {ldr.shape}")
    ldr = tf.ensure_shape(tf.cast(ldr, tf.float32), [None, None, None, None, 3])
    exposure = tf.cast(tf.convert_to_tensor(exposure), tf.float32)
    if exposure.shape.rank is not None and exposure.shape.rank != 2:
        raise ValueError(f"exposure must be rank 2 [B, N], got shape {exposure.shape}")
    static_n = ldr.shape[1]
    if static_n is not None and static_n < 2:
        raise ValueError(f"ldr must hold N >= 2 frames, got shape {ldr.shape}")
    if not ldr.shape[:2].is_compatible_with(exposure.shape):
        raise ValueError(
            f"exposure {exposure.shape} must be [B, N] for ldr {ldr.shape}"
        )
    shape = tf.shape(ldr)
    batch, frames, height, width = shape[0], shape[1], shape[2], shape[3]
    tf.debugging.assert_equal(
        tf.shape(exposure), shape[:2], message="exposure must be [B, N] for ldr"
    )
    tf.debugging.assert_greater_equal(frames, 2, message="ldr must hold N >= 2 frames")
    if reference is None:
        reference = default_reference(frames if static_n is None else static_n)
    elif isinstance(reference, int) and static_n is not None:
        if not 0 <= reference < static_n:
            raise ValueError(
                f"reference must be in [0, {static_n - 1}], got {reference}"
            )
    reference = tf.convert_to_tensor(reference, tf.int32)
    others = tf.concat([tf.range(reference), tf.range(reference + 1, frames)], 0)
    count = frames - 1

    moving = tf.gather(ldr, others, axis=1)  # [B, N-1, H, W, 3]
    moving_ev = tf.gather(exposure, others, axis=1)  # [B, N-1]
    ref = tf.gather(ldr, reference, axis=1)[:, None]  # [B, 1, H, W, 3]
    ref_ev = tf.gather(exposure, reference, axis=1)[:, None]  # [B, 1]
    bright_ev = tf.maximum(moving_ev, ref_ev)

    def time(ev):
        return tf.convert_to_tensor(ev_to_time(ev))[..., None, None, None]

    moving_eq = reexpose(moving, time(moving_ev), time(bright_ev))
    ref_eq = reexpose(ref, time(ref_ev), time(bright_ev))  # broadcasts to N-1
    fill = reexpose(ref, time(ref_ev), time(moving_ev))

    def flat(x):
        return tf.reshape(x, [batch * count, height, width, x.shape[-1]])

    flow = estimate_flow(flat(ref_eq), flat(moving_eq), **flow_params)
    warped = tf.clip_by_value(warp(flat(moving), flow, "bicubic"), 0.0, 1.0)
    outside = outside_mask(flow)
    aligned = tf.where(outside > 0.0, flat(fill), warped)
    aligned = tf.reshape(aligned, [batch, count, height, width, 3])
    valid = tf.reshape(1.0 - outside, [batch, count, height, width, 1])

    def insert(others_stack, ref_frame):
        return tf.concat(
            [others_stack[:, :reference], ref_frame, others_stack[:, reference:]], 1
        )

    aligned = insert(aligned, ref)
    valid = insert(valid, tf.ones_like(ref[..., :1]))
    if static_n is not None:
        aligned = tf.ensure_shape(aligned, [None, static_n, None, None, 3])
        valid = tf.ensure_shape(valid, [None, static_n, None, None, 1])
    return aligned, valid


# -------------------------------------------------------------------------- homography


def _to_gray8(ldr: np.ndarray) -> np.ndarray:
    rgb8 = np.round(np.clip(ldr, 0.0, 1.0) * 255.0).astype(np.uint8)
    return cv2.cvtColor(rgb8, cv2.COLOR_RGB2GRAY)


def _equalised_pair(frame, reference, frame_ev: float, reference_ev: float):
    """8-bit grey images of `frame` and `reference` at the brighter exposure."""
    if frame_ev < reference_ev:
        frame = _reexpose_ev(frame, frame_ev, reference_ev)
    elif reference_ev < frame_ev:
        reference = _reexpose_ev(reference, reference_ev, frame_ev)
    return _to_gray8(frame), _to_gray8(reference)


def _detector(kind: str):
    if kind == "sift":
        return cv2.SIFT_create(nfeatures=MAX_FEATURES), cv2.NORM_L2
    if kind == "orb":
        return cv2.ORB_create(nfeatures=MAX_FEATURES), cv2.NORM_HAMMING
    raise ValueError(f"detector must be one of {DETECTORS}, got {kind!r}")


def estimate_homography(
    source: np.ndarray, target: np.ndarray, detector: str = "sift"
) -> np.ndarray | None:
    """3x3 homography mapping `source` pixel coordinates to `target` ones.

    Args:
        source, target: 8-bit greyscale images [H, W] of the same scene.
        detector: "sift" or "orb".
    Returns:
        float64 [3, 3] normalised so H[2, 2] = 1, or None when there are fewer
        than MIN_MATCHES good matches or MIN_INLIERS RANSAC inliers, or the
        estimate is degenerate.
    """
    extractor, norm = _detector(detector)
    kp_source, desc_source = extractor.detectAndCompute(source, None)
    kp_target, desc_target = extractor.detectAndCompute(target, None)
    if desc_source is None or desc_target is None or len(kp_target) < 2:
        return None
    pairs = cv2.BFMatcher(norm).knnMatch(desc_source, desc_target, k=2)
    good = [
        p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance
    ]
    if len(good) < MIN_MATCHES:
        return None
    src = np.float32([kp_source[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    dst = np.float32([kp_target[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    homography, inliers = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_THRESHOLD)
    if homography is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    if not np.all(np.isfinite(homography)) or abs(homography[2, 2]) < 1e-12:
        return None
    homography = homography / homography[2, 2]
    if abs(np.linalg.det(homography[:2, :2])) < 1e-6:
        return None
    return homography


def warp_to_reference(frame: np.ndarray, homography: np.ndarray):
    """Warps `frame` [H, W, C] by `homography`; returns (warped, valid mask [H, W])."""
    height, width = frame.shape[:2]
    warped = cv2.warpPerspective(
        frame.astype(np.float32),
        homography,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    coverage = cv2.warpPerspective(
        np.ones((height, width), np.float32),
        homography,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return warped, coverage > 0.999


def align_to_reference(
    frames: np.ndarray,
    exposure_biases,
    reference: int | None = None,
    detector: str = "sift",
):
    """Aligns the background of every frame of a stack to the reference frame.

    Args:
        frames: LDR stack [N, H, W, 3], float in [0, 1], RGB.
        exposure_biases: [N] exposure biases in stops.
        reference: index of the reference frame (None: N // 2).
        detector: "sift" (default) or "orb".
    Returns:
        (aligned [N, H, W, 3] float32 in [0, 1], homographies [N, 3, 3] float64
        mapping each frame's pixel coordinates to the reference's (identity for
        the reference and for fallbacks), valid [N, H, W] bool: pixels that come
        from inside their own frame; invalid ones hold the reference re-exposed to
        that frame's exposure).
    """
    frames = np.asarray(frames, dtype=np.float32)
    biases = np.asarray(exposure_biases, dtype=np.float64).reshape(-1)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be [N, H, W, 3], got shape {frames.shape}")
    count = frames.shape[0]
    if biases.shape[0] != count:
        raise ValueError(
            f"{biases.shape[0]} exposure biases for {count} frames; need one each"
        )
    reference = count // 2 if reference is None else int(reference)
    if not 0 <= reference < count:
        raise ValueError(f"reference must be in [0, {count - 1}], got {reference}")

    aligned = frames.copy()
    homographies = np.tile(np.eye(3), (count, 1, 1))
    valid = np.ones(frames.shape[:3], dtype=bool)
    for i in range(count):
        if i == reference:
            continue
        source, target = _equalised_pair(
            frames[i], frames[reference], biases[i], biases[reference]
        )
        homography = estimate_homography(source, target, detector)
        if homography is None:
            warnings.warn(
                f"frame {i}: too few feature matches with reference frame "
                f"{reference} for a homography; keeping the frame unaligned "
                "(identity)",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        warped, mask = warp_to_reference(frames[i], homography)
        fill = _reexpose_ev(frames[reference], biases[reference], biases[i])
        aligned[i] = np.clip(np.where(mask[..., None], warped, fill), 0.0, 1.0)
        homographies[i] = homography
        valid[i] = mask
    return aligned, homographies, valid
