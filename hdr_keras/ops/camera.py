"""Virtual camera: linear HDR radiance -> LDR photo, as in HDRCNN's training data.

Pipeline of `virtual_camera` (METHODS.md section 4, Eilertsen et al. 2017):
colour jitter (hue, saturation) on the linear HDR -> exposure so that a random
percentile of the per-pixel channel maximum maps to 1 -> clip to [0, 1] -> camera
curve (sigmoid family or gamma) -> additive Gaussian noise -> clip -> 8-bit
quantisation -> optional JPEG.

Everything here is TensorFlow ops: it runs eagerly and inside `tf.data` map functions
(graph mode, dynamic H and W). Randomness is stateless: every random function takes
an explicit `seed`, an int32/int64 tensor of shape [2], so the same seed gives the
same result in eager mode, in a `tf.function` and in `tf.data`.

Value ranges: HDR inputs are linear radiance of any non-negative scale; LDR outputs
are display-referred values in [0, 1]; RGB channel order.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from hdr_keras import constants as C
from hdr_keras.ops.color import adjust_hue_saturation

CURVE_SIGMOID = (
    0  # value of `curve_kind` for the sigmoid family f(H) = (1+a) H^n / (H^n + a)
)
CURVE_GAMMA = 1  # value of `curve_kind` for the gamma curve f(H) = H^(1/gamma)
_CURVES = ("sigmoid", "gamma", "random")


# --------------------------------------------------------------------------- curves
def curve_sigmoid(h, n, a):
    """HDRCNN's camera curve f(H) = (1 + a) H^n / (H^n + a) on linear H in [0, 1].

    Maps 0 -> 0 and 1 -> 1; `n` (> 0) and `a` (>= 0) broadcast against `h`. Negative
    H is treated as 0. The result is in [0, 1] for H in [0, 1].
    """
    h = tf.convert_to_tensor(h, dtype=tf.float32)
    hn = tf.pow(tf.maximum(h, 0.0), n)
    return tf.math.divide_no_nan((1.0 + a) * hn, hn + a)


def inverse_curve_sigmoid(z, n, a):
    """Exact inverse of `curve_sigmoid` on z in [0, 1]: H = (a z / (1 + a - z))^(1/n).

    Requires a > 0 (a = 0 makes the curve a step, not invertible). z is clipped to
    [0, 1] first, so the result is linear H in [0, 1].
    """
    z = tf.clip_by_value(tf.convert_to_tensor(z, dtype=tf.float32), 0.0, 1.0)
    hn = a * z / (1.0 + a - z)
    return tf.pow(hn, 1.0 / n)


def curve_gamma(h, gamma=C.GAMMA):
    """Gamma camera curve f(H) = H^(1/gamma) on linear H >= 0 (negative H -> 0)."""
    h = tf.convert_to_tensor(h, dtype=tf.float32)
    return tf.pow(tf.maximum(h, 0.0), 1.0 / gamma)


def inverse_curve_gamma(z, gamma=C.GAMMA):
    """Exact inverse of `curve_gamma`: H = z^gamma for display values z >= 0."""
    z = tf.convert_to_tensor(z, dtype=tf.float32)
    return tf.pow(tf.maximum(z, 0.0), gamma)


def _expand_like(value, image):
    """Casts a per-image parameter (scalar, or [B] for a [B, H, W, C] batch) and
    appends axes so that it broadcasts against `image`."""
    value = tf.convert_to_tensor(value)
    if value.dtype != image.dtype and value.dtype.is_floating:
        value = tf.cast(value, image.dtype)
    for _ in range(image.shape.rank - value.shape.rank):
        value = value[..., None]
    return value


def apply_camera_curve(h, curve_kind, n, a, gamma=C.GAMMA):
    """Applies the curve selected per image by `curve_kind` (CURVE_SIGMOID or
    CURVE_GAMMA) to linear H in [0, 1]; `n`, `a` are the sigmoid parameters (ignored,
    and may be NaN, where the kind is gamma). Parameters are scalars or [B]."""
    h = tf.convert_to_tensor(h, dtype=tf.float32)
    is_sigmoid = tf.equal(_expand_like(curve_kind, h), CURVE_SIGMOID)
    n = tf.where(is_sigmoid, _expand_like(n, h), 1.0)
    a = tf.where(is_sigmoid, _expand_like(a, h), 1.0)
    return tf.where(is_sigmoid, curve_sigmoid(h, n, a), curve_gamma(h, gamma))


def inverse_camera_curve(z, curve_kind, n, a, gamma=C.GAMMA):
    """Inverse of `apply_camera_curve`: display values z in [0, 1] -> linear H."""
    z = tf.convert_to_tensor(z, dtype=tf.float32)
    is_sigmoid = tf.equal(_expand_like(curve_kind, z), CURVE_SIGMOID)
    n = tf.where(is_sigmoid, _expand_like(n, z), 1.0)
    a = tf.where(is_sigmoid, _expand_like(a, z), 1.0)
    return tf.where(
        is_sigmoid, inverse_curve_sigmoid(z, n, a), inverse_curve_gamma(z, gamma)
    )


# ------------------------------------------------------------------------- exposure
def percentile_reference(hdr, percentile):
    """Value v of the per-pixel channel maximum max_c(hdr) at `percentile`.

    Uses the nearest rank k = min(floor(percentile * N), N - 1) of the ascending
    sorted N pixel values, so that after dividing by v exactly ceil((1 - p) N) of the
    pixels (barring ties) have max_c >= 1: this is the fraction that
    `saturation_mask` counts as clipped. Falls back to the image maximum when v is 0,
    and to 1 for an all-zero image, so the result is always > 0.

    Args:
        hdr: linear HDR [H, W, C] or [B, H, W, C], any scale, dynamic H and W.
        percentile: in [0, 1]; a scalar, or [B] for a batch.

    Returns:
        A scalar for [H, W, C], [B] for a batch.
    """
    hdr = tf.convert_to_tensor(hdr, dtype=tf.float32)
    batched = hdr.shape.rank == 4
    values = tf.reduce_max(hdr, axis=-1)
    values = tf.reshape(values, [tf.shape(values)[0] if batched else 1, -1])
    values = tf.sort(values, axis=-1)
    count = tf.shape(values)[-1]
    p = tf.cast(tf.reshape(percentile, [-1]), tf.float32)
    p = tf.broadcast_to(p, tf.shape(values)[:1])
    rank = tf.cast(tf.floor(p * tf.cast(count, tf.float32)), tf.int32)
    rank = tf.clip_by_value(rank, 0, count - 1)
    ref = tf.gather(values, rank[:, None], batch_dims=1)[:, 0]
    ref = tf.where(ref > 0.0, ref, values[:, -1])
    ref = tf.where(ref > 0.0, ref, 1.0)
    return ref if batched else ref[0]


def exposure_for_percentile(hdr, percentile):
    """Scale s such that the `percentile` (in [0, 1]) of the per-pixel channel
    maximum of s * hdr equals 1, i.e. s = 1 / `percentile_reference(hdr, percentile)`.

    The per-pixel maximum (not luminance) is used because a pixel clips in a camera
    as soon as any channel saturates; `virtual_camera`'s `saturation_mask` measures
    clipping the same way, so the clipped fraction is 1 - percentile (to 1 / N).
    Note: `hdr / reference` hits exactly 1 at the reference pixel, whereas
    `hdr * s` may land one float ulp below it.
    """
    return 1.0 / percentile_reference(hdr, percentile)


# ------------------------------------------------------------ noise, quantisation
def quantize(x, bits: int = C.LDR_BITS):
    """Clips x to [0, 1] and rounds it to the 2^bits - 1 steps of a `bits`-bit image
    (values k / (2^bits - 1)). Not differentiable (zero gradient almost everywhere)."""
    levels = float(2**bits - 1)
    x = tf.clip_by_value(tf.convert_to_tensor(x, dtype=tf.float32), 0.0, 1.0)
    return tf.round(x * levels) / levels


def jpeg(x, quality):
    """JPEG-compresses and decodes a display-referred image x in [0, 1].

    Args:
        x: float [H, W, 3] (or [H, W, 1]) in [0, 1], or a batch [B, H, W, 3] (each
            image is encoded separately with `tf.map_fn`).
        quality: int JPEG quality in [0, 100]; a Python int or a tensor (scalar, or
            [B] for a batch).

    Returns:
        float32 of x's shape in [0, 1], on the 1/255 grid: the codec works on uint8,
        so x is rounded to 8 bits before encoding (`tf.image.adjust_jpeg_quality`).
    """
    x = tf.clip_by_value(tf.convert_to_tensor(x, dtype=tf.float32), 0.0, 1.0)
    quality = tf.cast(quality, tf.int32)
    if x.shape.rank == 4:
        quality = tf.broadcast_to(quality, tf.shape(x)[:1])
        out = tf.map_fn(
            lambda args: tf.image.adjust_jpeg_quality(args[0], args[1]),
            (x, quality),
            fn_output_signature=tf.float32,
        )
    else:
        out = tf.image.adjust_jpeg_quality(x, quality)
    out.set_shape(x.shape)
    return out


# ----------------------------------------------------------------- configuration
@dataclasses.dataclass(frozen=True)
class VirtualCameraConfig:
    """Distributions of the virtual camera's random parameters (HDRCNN defaults).

    Args:
        hue_std_degrees: hue shift ~ N(0, hue_std_degrees).
        saturation_std: chroma scale (1 + s) with s ~ N(0, saturation_std).
        percentile_range: percentile p ~ U[lo, hi] of max_c(HDR) that maps to 1, so a
            fraction 1 - p of the pixels clips.
        curve: "sigmoid" (HDRCNN's family), "gamma" (H^(1/gamma)) or "random" (per
            sample: gamma with probability `gamma_probability`, else sigmoid).
        curve_n_mean, curve_n_std, curve_n_range: n ~ N(mean, std) clipped to range.
        curve_a_mean, curve_a_std, curve_a_range: a ~ N(mean, std) clipped to range.
        gamma: exponent of the gamma curve.
        gamma_probability: probability of the gamma curve when curve="random".
        noise_sigma_range: additive Gaussian noise sigma ~ U[lo, hi] (display domain).
        quantize: round the LDR to `bits` bits.
        bits: bit depth of the quantisation.
        jpeg: JPEG-compress with quality ~ U{lo..hi}. Off by default: encoding and
            decoding every element is the slowest step of the pipeline (CPU only).
        jpeg_quality_range: inclusive integer range of the JPEG quality.
    """

    hue_std_degrees: float = C.HDRCNN_HUE_STD_DEGREES
    saturation_std: float = C.HDRCNN_SATURATION_STD
    percentile_range: tuple[float, float] = C.HDRCNN_PERCENTILE_RANGE
    curve: str = "sigmoid"
    curve_n_mean: float = C.HDRCNN_CURVE_N_MEAN
    curve_n_std: float = C.HDRCNN_CURVE_N_STD
    curve_n_range: tuple[float, float] = C.HDRCNN_CURVE_N_RANGE
    curve_a_mean: float = C.HDRCNN_CURVE_A_MEAN
    curve_a_std: float = C.HDRCNN_CURVE_A_STD
    curve_a_range: tuple[float, float] = C.HDRCNN_CURVE_A_RANGE
    gamma: float = C.GAMMA
    gamma_probability: float = 0.5
    noise_sigma_range: tuple[float, float] = C.HDRCNN_NOISE_SIGMA_RANGE
    quantize: bool = True
    bits: int = C.LDR_BITS
    jpeg: bool = False
    jpeg_quality_range: tuple[int, int] = C.HDRCNN_JPEG_QUALITY_RANGE

    def __post_init__(self):
        if self.curve not in _CURVES:
            raise ValueError(f"curve must be one of {_CURVES}, got {self.curve!r}")
        for name in (
            "percentile_range",
            "curve_n_range",
            "curve_a_range",
            "noise_sigma_range",
            "jpeg_quality_range",
        ):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name} must be (low, high) with low <= high")
        if not 0.0 <= self.percentile_range[0] <= self.percentile_range[1] <= 1.0:
            raise ValueError("percentile_range must lie in [0, 1]")
        if self.curve_n_range[0] <= 0.0:
            raise ValueError("curve_n_range must be positive")
        if not 0 <= self.jpeg_quality_range[0] <= self.jpeg_quality_range[1] <= 100:
            raise ValueError("jpeg_quality_range must lie in [0, 100]")


@dataclasses.dataclass
class CameraParams:
    """Random parameters of one virtual-camera draw; tensors, scalars or [B].

    curve_n / curve_a are NaN where curve_kind == CURVE_GAMMA; jpeg_quality is 0
    when JPEG is off.
    """

    hue_shift: tf.Tensor  # degrees
    saturation_shift: tf.Tensor  # chroma scale is 1 + saturation_shift
    percentile: tf.Tensor
    curve_kind: tf.Tensor  # int32: CURVE_SIGMOID or CURVE_GAMMA
    curve_n: tf.Tensor
    curve_a: tf.Tensor
    noise_sigma: tf.Tensor
    jpeg_quality: tf.Tensor  # int32


def _as_seed(seed):
    """Stateless seed [2] as int64, so int32 and int64 seeds give the same stream."""
    return tf.reshape(tf.cast(seed, tf.int64), [2])


def _truncated(shape, seed, mean, std, limits):
    value = mean + std * tf.random.stateless_normal(shape, seed)
    return tf.clip_by_value(value, limits[0], limits[1])


def sample_camera_params(
    seed, config: VirtualCameraConfig = VirtualCameraConfig(), batch_shape=()
) -> CameraParams:
    """Draws the camera parameters from `config` with the stateless seed [2]
    (int32 or int64; equal values give equal draws whatever the dtype).

    `batch_shape` is () for one image or [B] (may be a tensor) for a batch.
    """
    seeds = tf.random.experimental.stateless_split(_as_seed(seed), num=8)
    shape = batch_shape
    uniform = tf.random.stateless_uniform
    hue = config.hue_std_degrees * tf.random.stateless_normal(shape, seeds[0])
    sat = config.saturation_std * tf.random.stateless_normal(shape, seeds[1])
    lo, hi = config.percentile_range
    percentile = uniform(shape, seeds[2], minval=lo, maxval=hi)
    n = _truncated(
        shape, seeds[3], config.curve_n_mean, config.curve_n_std, config.curve_n_range
    )
    a = _truncated(
        shape, seeds[4], config.curve_a_mean, config.curve_a_std, config.curve_a_range
    )
    zeros = tf.zeros_like(percentile, dtype=tf.int32)
    if config.curve == "sigmoid":
        kind = zeros + CURVE_SIGMOID
    elif config.curve == "gamma":
        kind = zeros + CURVE_GAMMA
    else:
        pick_gamma = uniform(shape, seeds[5]) < config.gamma_probability
        kind = tf.where(pick_gamma, CURVE_GAMMA, CURVE_SIGMOID)
    nan = tf.constant(float("nan"))
    n = tf.where(kind == CURVE_SIGMOID, n, nan)
    a = tf.where(kind == CURVE_SIGMOID, a, nan)
    lo, hi = config.noise_sigma_range
    noise_sigma = uniform(shape, seeds[6], minval=lo, maxval=hi)
    if config.jpeg:
        lo, hi = config.jpeg_quality_range
        quality = uniform(shape, seeds[7], minval=lo, maxval=hi + 1, dtype=tf.int32)
    else:
        quality = zeros
    return CameraParams(
        hue_shift=hue,
        saturation_shift=sat,
        percentile=percentile,
        curve_kind=tf.cast(kind, tf.int32),
        curve_n=n,
        curve_a=a,
        noise_sigma=noise_sigma,
        jpeg_quality=quality,
    )


# ------------------------------------------------------------------ the camera
def virtual_camera(
    hdr, seed, config: VirtualCameraConfig = VirtualCameraConfig()
) -> dict:
    """Simulates an LDR photo of linear HDR radiance with random camera parameters.

    Args:
        hdr: float [H, W, 3] (or a batch [B, H, W, 3]) linear radiance of any
            non-negative scale (negative values are set to 0); RGB; dynamic H, W.
        seed: int32/int64 tensor [2], the stateless seed; same seed -> same output.
            For a batch, each image gets its own parameters drawn from this seed.
        config: the parameter distributions.

    Returns:
        A dict of tensors (scalars become [B] for a batch):
        - "ldr": float32 [H, W, 3] in [0, 1], display-referred, on the 1/255 grid
          when quantised (or JPEG-compressed);
        - "hdr": float32 [H, W, 3], the colour-jittered and exposed but NOT clipped
          linear radiance, so that ldr ~ f(clip(hdr, 0, 1)) up to noise,
          quantisation and JPEG (f = the camera curve): the training target in the
          scale of the LDR's linearisation;
        - "saturation_mask": float32 [H, W, 1], 1 where any channel of "hdr" >= 1;
          its mean is 1 - percentile (to 1 / (H W), barring ties);
        - "exposure": float32, the scale applied to the jittered input radiance;
        - "percentile": float32, the percentile mapped to 1;
        - "curve_kind": int32, CURVE_SIGMOID (0) or CURVE_GAMMA (1);
        - "curve_n", "curve_a": float32 sigmoid parameters, NaN for the gamma curve;
        - "noise_sigma": float32; "jpeg_quality": int32, 0 when JPEG is off;
        - "hue_shift" (degrees), "saturation_shift": float32 colour jitter.
    """
    hdr = tf.maximum(tf.convert_to_tensor(hdr, dtype=tf.float32), 0.0)
    batched = hdr.shape.rank == 4
    batch_shape = tf.shape(hdr)[:1] if batched else []
    param_seed, noise_seed = tf.unstack(
        tf.random.experimental.stateless_split(_as_seed(seed), num=2)
    )
    params = sample_camera_params(param_seed, config, batch_shape)

    jittered = adjust_hue_saturation(hdr, params.hue_shift, params.saturation_shift)
    reference = percentile_reference(jittered, params.percentile)
    # Divide (rather than multiply by 1 / reference) so that the reference pixel is
    # exactly 1 and the clipped fraction matches the percentile.
    exposed = jittered / _expand_like(reference, jittered)
    saturation_mask = tf.cast(
        tf.reduce_max(exposed, axis=-1, keepdims=True) >= 1.0, tf.float32
    )

    ldr = apply_camera_curve(
        tf.clip_by_value(exposed, 0.0, 1.0),
        params.curve_kind,
        params.curve_n,
        params.curve_a,
        config.gamma,
    )
    noise = tf.random.stateless_normal(tf.shape(ldr), noise_seed)
    ldr = tf.clip_by_value(
        ldr + _expand_like(params.noise_sigma, ldr) * noise, 0.0, 1.0
    )
    if config.quantize:
        ldr = quantize(ldr, config.bits)
    if config.jpeg:
        ldr = jpeg(ldr, params.jpeg_quality)
    return {
        "ldr": ldr,
        "hdr": exposed,
        "saturation_mask": saturation_mask,
        "exposure": 1.0 / reference,
        "percentile": params.percentile,
        "curve_kind": params.curve_kind,
        "curve_n": params.curve_n,
        "curve_a": params.curve_a,
        "noise_sigma": params.noise_sigma,
        "jpeg_quality": params.jpeg_quality,
        "hue_shift": params.hue_shift,
        "saturation_shift": params.saturation_shift,
    }
