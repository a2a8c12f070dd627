"""PU21 perceptually uniform encoding of absolute luminance (Mantiuk & Azimi 2021).

R. K. Mantiuk and M. Azimi, "PU21: A novel perceptually uniform encoding for adapting
existing quality metrics for HDR", Picture Coding Symposium 2021. PU21 maps absolute
linear values Y (luminance or linear RGB, in cd/m^2) to values V that are roughly
perceptually uniform, so that metrics made for display-encoded images (PSNR, SSIM)
can be applied to HDR images (`hdr_keras.metrics.pu21_psnr`, `pu21_ssim`):

    V = p7 * (((p1 + p2 * Y^p4) / (1 + p3 * Y^p4))^p5 - p6),
    Y clamped to [PU21_L_MIN, PU21_L_MAX] = [0.005, 10000] cd/m^2.

The parameters p1..p7 of the four variants fitted in the paper are in
`hdr_keras.constants.PU21_PARAMETERS`. They are scaled so that 100 cd/m^2 (the peak
of a typical SDR display) encodes to about 256 and 0.005 cd/m^2 to about 0, like 8-bit
sRGB values: metrics take 256 as the peak value. `banding_glare` (the default) is the
one the authors recommend; `banding`, `peaks` and `peaks_glare` are options.

Inputs MUST be absolute: relative HDR (e.g. radiance normalised to [0, 1]) is first
mapped to the luminance emitted by a display, usually by scaling the reference's
maximum to the display's peak (`absolute_scale`, default PU21_PEAK_LUMINANCE =
4000 cd/m^2, as in the authors' examples).
"""

from __future__ import annotations

from keras import ops

from hdr_keras.constants import (
    PU21_DEFAULT_VARIANT,
    PU21_L_MAX,
    PU21_L_MIN,
    PU21_PARAMETERS,
    PU21_PEAK_LUMINANCE,
)

VARIANTS = tuple(PU21_PARAMETERS)


def pu21_parameters(variant: str = PU21_DEFAULT_VARIANT) -> tuple[float, ...]:
    """The seven parameters (p1..p7) of a PU21 variant; ValueError naming the valid ones."""
    try:
        return PU21_PARAMETERS[variant]
    except KeyError:
        raise ValueError(
            f"unknown PU21 variant {variant!r}; valid variants: {', '.join(VARIANTS)}"
        ) from None


def pu21_encode(luminance, variant: str = PU21_DEFAULT_VARIANT):
    """PU21 values of absolute linear values `luminance` (cd/m^2, any shape).

    Values are clamped to [PU21_L_MIN, PU21_L_MAX] first (0.005 to 10000 cd/m^2),
    so the result lies in [encode(0.005), encode(10000)] (about [0, 595] for
    banding_glare). Monotonically increasing.
    """
    p1, p2, p3, p4, p5, p6, p7 = pu21_parameters(variant)
    y = ops.clip(
        ops.convert_to_tensor(luminance, dtype="float32"), PU21_L_MIN, PU21_L_MAX
    )
    y_p4 = ops.power(y, p4)
    return p7 * (ops.power((p1 + p2 * y_p4) / (1.0 + p3 * y_p4), p5) - p6)


def pu21_decode(encoded, variant: str = PU21_DEFAULT_VARIANT):
    """Inverse of `pu21_encode`: absolute luminance (cd/m^2) of PU21 values.

    Exact inverse inside the encoded range of [PU21_L_MIN, PU21_L_MAX].
    """
    p1, p2, p3, p4, p5, p6, p7 = pu21_parameters(variant)
    v = ops.convert_to_tensor(encoded, dtype="float32")
    v_p = ops.power(ops.maximum(v / p7 + p6, 0.0), 1.0 / p5)
    return ops.power(ops.maximum(v_p - p1, 0.0) / (p2 - p3 * v_p), 1.0 / p4)


def absolute_scale(reference, peak_luminance: float = PU21_PEAK_LUMINANCE):
    """Factor mapping relative HDR to cd/m^2: the reference's maximum goes to
    `peak_luminance` (display-referred evaluation). Apply the same factor to the
    reference and to the prediction.

    Args:
        reference: linear HDR [H, W, C] or [B, H, W, C], relative units.
        peak_luminance: luminance of the display's peak in cd/m^2 (> 0).

    Returns:
        A scalar for an unbatched image, [B, 1, 1, 1] for a batch.
    Raises:
        ValueError: for a peak <= 0.
    """
    if not peak_luminance > 0:
        raise ValueError(f"peak_luminance must be > 0 cd/m^2, got {peak_luminance}")
    reference = ops.convert_to_tensor(reference, dtype="float32")
    peak = ops.max(reference, axis=(-3, -2, -1), keepdims=len(reference.shape) == 4)
    return peak_luminance / ops.maximum(peak, 1e-30)
