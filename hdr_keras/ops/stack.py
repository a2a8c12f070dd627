"""Network inputs of the multi-exposure (stack) methods: Kalantari, Wu, AHDRNet.

This is the one place that builds them (METHODS.md, "common to the stack methods"):
for frame i of a stack of LDR exposures Z_i in [0, 1] with exposure biases ev_i in
stops, the network sees the 6 channels concat(Z_i, H_i), where
H_i = Z_i ** gamma / t_i is the frame mapped to linear radiance and
t_i = 2 ** (ev_i - min_j ev_j) its exposure time relative to the shortest exposure.
"""

from __future__ import annotations

from keras import ops

from hdr_keras.constants import GAMMA
from hdr_keras.ops.exposure import ev_to_time, ldr_to_hdr, normalize_ev

FEATURES_PER_FRAME = 6  # concat(Z_i, H_i), RGB each


def stack_features(ldr, exposure, gamma: float = GAMMA):
    """Per-frame network input concat(Z_i, Z_i ** gamma / 2 ** ev_i).

    Args:
        ldr: display-referred LDR frames [B, N, H, W, 3], values in [0, 1] (clipped
            to [0, 1] here), RGB, sorted by exposure.
        exposure: exposure biases in stops [B, N]; shifted inside so that each
            stack's smallest bias is 0 (only differences between frames matter).
        gamma: exponent of the assumed camera curve (2.2).
    Returns:
        float32 [B, N, H, W, 6]: the clipped LDR values in channels 0-2 and the
        linearised, exposure-normalised radiance in channels 3-5 (in [0, 1]: the
        shortest exposure maps to [0, 1], longer ones below).
    """
    ldr = ops.clip(ops.convert_to_tensor(ldr, dtype="float32"), 0.0, 1.0)
    ev = normalize_ev(exposure, axis=-1)
    exposure_time = ops.expand_dims(ev_to_time(ev), axis=(2, 3, 4))  # [B,N,1,1,1]
    hdr = ldr_to_hdr(ldr, exposure_time, gamma)
    return ops.concatenate([ldr, hdr], axis=-1)


def default_reference(num_frames):
    """Index of the reference frame when none is given: the middle one, N // 2.

    The one definition, used by the model builders, the flow alignment, the
    synthetic stacks, the patch writer, the Kalantari-folder reader, evaluation and
    serving. For odd N (Kalantari's, Wu's and AHDRNet's three frames: frame 1) every
    convention agrees. For even N this is the upper middle, the longer of the two
    middle exposures: the builders, the flow alignment and serving have always used
    it (a saved model stores its resolved reference), while only the data writers
    used the lower middle, (N - 1) // 2, on data that is 3 frames in every dataset
    read here. With the longer exposure, the reference's dark regions are the less
    noisy and its clipped highlights are filled from the shorter frames, as the
    three-frame methods fill those of their medium frame. `num_frames` may be a
    Python int or an integer tensor (a dynamic frame count).
    """
    return num_frames // 2


def check_stack_arguments(num_frames: int, reference: int | None) -> int:
    """Validates a stack model's frame count and reference; returns the reference.

    Raises ValueError when num_frames < 2 or reference is outside [0, num_frames).
    """
    if isinstance(num_frames, bool) or int(num_frames) != num_frames or num_frames < 2:
        raise ValueError(f"num_frames must be an integer >= 2, got {num_frames!r}")
    if reference is None:
        return default_reference(int(num_frames))
    if not 0 <= reference < num_frames:
        raise ValueError(
            f"reference must be a frame index in [0, {num_frames - 1}], got {reference}"
        )
    return int(reference)
