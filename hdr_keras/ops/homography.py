"""Background alignment of an exposure stack with homographies (Wu et al. 2018).

Wu et al. align the background (camera motion) of every non-reference frame to the
reference with a homography estimated from image features, and leave foreground
motion to the network (METHODS.md §2). Plain NumPy/OpenCV, for data preparation
(not part of any model graph).

For each non-reference frame i:
1. exposure equalisation: the darker of (frame i, reference) is re-exposed to the
   brighter one's exposure through the linear domain (clipped), so both images
   show the same content and the same saturated regions; both -> 8-bit grey;
2. SIFT (default) or ORB keypoints, brute-force matching with Lowe's ratio test;
3. `cv2.findHomography` with RANSAC: H_i maps frame-i pixel coordinates to
   reference coordinates;
4. frame i is warped into the reference view (bilinear); pixels that come from
   outside frame i are invalid and filled with the reference frame re-exposed to
   frame i's exposure.
Too few matches or inliers (or a degenerate estimate) -> identity, with a warning.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from hdr_keras.ops.exposure import ev_to_time, hdr_to_ldr, ldr_to_hdr

DETECTORS = ("sift", "orb")
MIN_MATCHES = 12  # good matches needed to attempt an estimate
MIN_INLIERS = 10  # RANSAC inliers needed to accept it
RATIO = 0.75  # Lowe's ratio test
RANSAC_THRESHOLD = 3.0  # reprojection error (pixels) of a RANSAC inlier
MAX_FEATURES = 5000


def reexpose(ldr: np.ndarray, from_ev: float, to_ev: float) -> np.ndarray:
    """LDR [H, W, 3] in [0, 1] shot at `from_ev` stops, as if shot at `to_ev` (clipped)."""
    hdr = ldr_to_hdr(ldr.astype(np.float32), ev_to_time(from_ev))
    return np.asarray(hdr_to_ldr(hdr, ev_to_time(to_ev)), dtype=np.float32)


def _to_gray8(ldr: np.ndarray) -> np.ndarray:
    rgb8 = np.round(np.clip(ldr, 0.0, 1.0) * 255.0).astype(np.uint8)
    return cv2.cvtColor(rgb8, cv2.COLOR_RGB2GRAY)


def _equalised_pair(frame, reference, frame_ev: float, reference_ev: float):
    """8-bit grey images of `frame` and `reference` at the brighter exposure."""
    if frame_ev < reference_ev:
        frame = reexpose(frame, frame_ev, reference_ev)
    elif reference_ev < frame_ev:
        reference = reexpose(reference, reference_ev, frame_ev)
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
        fill = reexpose(frames[reference], biases[reference], biases[i])
        aligned[i] = np.clip(np.where(mask[..., None], warped, fill), 0.0, 1.0)
        homographies[i] = homography
        valid[i] = mask
    return aligned, homographies, valid
