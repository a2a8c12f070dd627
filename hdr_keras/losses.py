"""Training losses of the methods, as functions and serialisable Keras losses.

HDRCNN (Eilertsen et al. 2017) losses compare the network's log-radiance prediction
`log_pred` = y with the linear target H, only where the TARGET is near or above
saturation (mask alpha from `highlight_mask(H)`):
- masked log L2: mean((alpha * (y - log(H + eps)))^2);
- illuminance + reflectance: lambda * mean(alpha (I_hat - I)^2)
  + (1 - lambda) * mean(alpha (R_hat - R)^2), with I = Gaussian blur of the log
  luminance and R = log H - I (per channel), as in the authors' training code.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import keras
import numpy as np
from keras import ops

from hdr_keras.constants import (
    HDRCNN_EPS,
    HDRCNN_TAU,
    LIU_CURVE_LOSS_WEIGHT,
    LIU_HDR_MEAN,
    LIU_LOG_GAIN,
    LIU_PERCEPTUAL_WEIGHT,
    LIU_TV_WEIGHT,
    LUMINANCE_WEIGHTS,
)
from hdr_keras.layers.vgg_preprocess import VGGPreprocess
from hdr_keras.models.vgg16_file import load_vgg16_notop
from hdr_keras.ops.highlight import from_log_hdr, highlight_mask, to_log_hdr
from hdr_keras.ops.tonemap import mu_law

# Illumination blur of the authors' code: 13 taps spanning +-2 standard deviations
# (plus half a tap), the 2-D kernel being sqrt(outer(k, k)) normalised.
HDRCNN_BLUR_SIZE = 13
HDRCNN_BLUR_NSIG = 2.0
HDRCNN_IR_LAMBDA = 0.5


def hdrcnn_blur_taps(size: int = HDRCNN_BLUR_SIZE, nsig: float = HDRCNN_BLUR_NSIG):
    """1-D factor t of the illumination kernel: the 2-D kernel is outer(t, t).

    The authors' kernel is sqrt(outer(k, k)) / sum with k the normal-CDF differences
    over `size` taps spanning +-nsig (plus half a tap); it factors as outer(t, t) with
    t = sqrt(k) / sum(sqrt(k)), so the blur runs as two 1-D convolutions.
    """
    interval = (2.0 * nsig + 1.0) / size
    edges = np.linspace(-nsig - interval / 2.0, nsig + interval / 2.0, size + 1)
    cdf = np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in edges])
    taps = np.sqrt(np.diff(cdf))
    return (taps / taps.sum()).astype(np.float32)


def hdrcnn_blur_kernel(size: int = HDRCNN_BLUR_SIZE, nsig: float = HDRCNN_BLUR_NSIG):
    """The 2-D illumination kernel [size, size] of HDRCNN's training code."""
    taps = hdrcnn_blur_taps(size, nsig)
    return np.outer(taps, taps)


def _log_luminance(linear, eps: float):
    weights = ops.convert_to_tensor(LUMINANCE_WEIGHTS, dtype=linear.dtype)
    return ops.log(ops.sum(linear * weights, axis=-1, keepdims=True) + eps)


def _blur(log_luminance):
    """Separable 'same' (zero-padded) blur of [B, H, W, 1], as the authors' conv2d."""
    taps = hdrcnn_blur_taps()
    vertical = ops.convert_to_tensor(taps[:, None, None, None])
    horizontal = ops.convert_to_tensor(taps[None, :, None, None])
    blurred = ops.conv(log_luminance, vertical, strides=1, padding="same")
    return ops.conv(blurred, horizontal, strides=1, padding="same")


def masked_log_l2(hdr_true, log_pred, tau: float = HDRCNN_TAU, eps: float = HDRCNN_EPS):
    """HDRCNN's plain loss: mean((alpha * (y - log(H + eps)))^2) over all values."""
    alpha = highlight_mask(hdr_true, tau)
    return ops.mean(ops.square((log_pred - to_log_hdr(hdr_true, eps)) * alpha))


def illuminance_reflectance_loss(
    hdr_true,
    log_pred,
    lam: float = HDRCNN_IR_LAMBDA,
    tau: float = HDRCNN_TAU,
    eps: float = HDRCNN_EPS,
):
    """HDRCNN's illuminance + reflectance loss on log prediction `log_pred` [B,H,W,3]."""
    alpha = highlight_mask(hdr_true, tau)
    ill_true = _blur(_log_luminance(hdr_true, eps))
    ill_pred = _blur(_log_luminance(from_log_hdr(log_pred, eps), eps))
    refl_true = to_log_hdr(hdr_true, eps) - ill_true
    refl_pred = log_pred - ill_pred
    per_value = lam * ops.square(ill_pred - ill_true) + (1.0 - lam) * ops.square(
        refl_pred - refl_true
    )
    return ops.mean(per_value * alpha)


@keras.saving.register_keras_serializable(package="hdr_keras")
class HDRCNNLoss(keras.losses.Loss):
    """HDRCNN training loss on (linear target, log prediction).

    Args:
        kind: "illuminance_reflectance" (paper default) or "masked_log_l2".
        lam: illuminance weight lambda of the illuminance + reflectance loss.
        tau: saturation threshold of the target mask.
    """

    KINDS = ("illuminance_reflectance", "masked_log_l2")

    def __init__(
        self,
        kind: str = "illuminance_reflectance",
        lam: float = HDRCNN_IR_LAMBDA,
        tau: float = HDRCNN_TAU,
        name: str = "hdrcnn_loss",
        **kwargs,
    ):
        if kind not in self.KINDS:
            raise ValueError(
                f"HDRCNNLoss kind must be one of {self.KINDS}, got {kind!r}"
            )
        super().__init__(name=name, **kwargs)
        self.kind = kind
        self.lam = float(lam)
        self.tau = float(tau)

    def call(self, y_true, y_pred):
        if self.kind == "masked_log_l2":
            return masked_log_l2(y_true, y_pred, self.tau)
        return illuminance_reflectance_loss(y_true, y_pred, self.lam, self.tau)

    def get_config(self):
        config = super().get_config()
        config.update({"kind": self.kind, "lam": self.lam, "tau": self.tau})
        return config


# ---------------------------------------------------------------- stack methods
# Kalantari 2017, Wu 2018 and AHDRNet 2019 compare linear HDR after the mu-law
# tonemapper T(H) = log(1 + mu H) / log(1 + mu) (hdr_keras.ops.tonemap.mu_law):
# L2 for Kalantari and Wu, L1 for AHDRNet. Values are linear radiance in [0, 1].


def mu_law_l1(hdr_true, hdr_pred):
    """mean(|T(hdr_pred) - T(hdr_true)|) on linear HDR in [0, 1] (AHDRNet's loss)."""
    return ops.mean(ops.abs(mu_law(hdr_pred) - mu_law(hdr_true)))


def mu_law_l2(hdr_true, hdr_pred):
    """mean((T(hdr_pred) - T(hdr_true))^2) on linear HDR in [0, 1] (Kalantari, Wu)."""
    return ops.mean(ops.square(mu_law(hdr_pred) - mu_law(hdr_true)))


@keras.saving.register_keras_serializable(package="hdr_keras")
class MuLawLoss(keras.losses.Loss):
    """L1 or L2 distance between mu-law tonemapped HDR images.

    `y_true` is linear HDR in [0, 1]. `y_pred` is linear HDR in [0, 1] as well
    (prediction="linear", e.g. AHDRNet's output) or already tonemapped
    (prediction="mu_law", e.g. the output of `hdr_keras.models.wu.tonemapped_model`).

    Args:
        norm: "l1" (AHDRNet) or "l2" (Kalantari, Wu).
        prediction: "linear" or "mu_law": the domain of `y_pred`.
    Reference: Kalantari & Ramamoorthi 2017, Eq. 4; Wu et al. 2018, Sec. 3.3;
    Yan et al. 2019 (AHDRNet), Sec. 3.4.
    """

    NORMS = ("l1", "l2")
    PREDICTIONS = ("linear", "mu_law")

    def __init__(
        self,
        norm: str = "l1",
        prediction: str = "linear",
        name: str = "mu_law_loss",
        **kwargs,
    ):
        if norm not in self.NORMS:
            raise ValueError(
                f"MuLawLoss norm must be one of {self.NORMS}, got {norm!r}"
            )
        if prediction not in self.PREDICTIONS:
            raise ValueError(
                f"MuLawLoss prediction must be one of {self.PREDICTIONS}, got "
                f"{prediction!r}"
            )
        super().__init__(name=name, **kwargs)
        self.norm = norm
        self.prediction = prediction

    def call(self, y_true, y_pred):
        tonemapped_true = mu_law(y_true)
        tonemapped_pred = mu_law(y_pred) if self.prediction == "linear" else y_pred
        difference = tonemapped_pred - ops.cast(tonemapped_true, y_pred.dtype)
        if self.norm == "l1":
            return ops.mean(ops.abs(difference))
        return ops.mean(ops.square(difference))

    def get_config(self):
        config = super().get_config()
        config.update({"norm": self.norm, "prediction": self.prediction})
        return config


# ------------------------------------------------------ SingleHDR (Liu et al. 2020)
# Per-stage losses of the official training code (METHODS.md §5):
# - Dequantization-Net: L2 to the un-quantised LDR (`L2Loss()`);
# - Linearization-Net: L2(B, clipped linear image) + 0.1 L2(inverse CRF samples)
#   (`L2Loss()` and `L2Loss(0.1)` on the two outputs of its training view);
# - Hallucination-Net: L1 on log(1 + 10 x) / log(11) + 0.001 VGG16 pool1-3 L1
#   (perceptual) + 0.1 total variation, all on the log-compressed images
#   (`HallucinationLoss`);
# - Refinement-Net / fine-tuning: L1 on log(1 + 10 x) / log(11) after scaling the
#   prediction and the target to mean 0.5 (`RefinementLoss`).
# Not reproduced: the official per-image mask that drops training images with more
# than half of their pixels over- or under-exposed.


_liu_log = logging.getLogger(__name__)
VGG_PERCEPTUAL_LAYERS = ("block1_pool", "block2_pool", "block3_pool")


def log_compress(linear, gain: float = LIU_LOG_GAIN):
    """SingleHDR's loss domain log(1 + gain x) / log(1 + gain) of linear x >= 0."""
    return ops.log1p(gain * ops.maximum(linear, 0.0)) / math.log1p(gain)


def total_variation_l1(images):
    """Mean absolute difference of vertical plus of horizontal neighbours.

    As the official code: each direction is padded with one mirrored row/column at
    the end (a zero difference) and averaged over all B x H x W x C values.
    """
    count = ops.cast(ops.size(images), images.dtype)
    vertical = ops.sum(ops.abs(images[:, 1:] - images[:, :-1]))
    horizontal = ops.sum(ops.abs(images[:, :, 1:] - images[:, :, :-1]))
    return (vertical + horizontal) / count


def vgg16_pool_features(path: str | Path) -> keras.Model:
    """A frozen VGG16 (weights from the local Keras file `path`) mapping RGB in
    [0, 1] (Caffe-normalised inside) to its pool1, pool2 and pool3 activations.

    Raises FileNotFoundError / ValueError naming the file; never downloads.
    """
    vgg = load_vgg16_notop(path)
    outputs = [vgg.get_layer(name).output for name in VGG_PERCEPTUAL_LAYERS]
    extractor = keras.Model(vgg.input, outputs, name="vgg16_perceptual")
    extractor.trainable = False
    rgb = keras.Input((None, None, 3))
    return keras.Model(rgb, extractor(VGGPreprocess()(rgb)), name="vgg16_pool_features")


@keras.saving.register_keras_serializable(package="hdr_keras")
class L2Loss(keras.losses.Loss):
    """weight * mean((y_pred - y_true)^2) (SingleHDR's dequantisation and
    linearisation terms; the inverse-curve term has weight 0.1).

    Args:
        weight: factor of the mean squared error.
    """

    def __init__(self, weight: float = 1.0, name: str = "l2_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.weight = float(weight)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        return self.weight * ops.mean(ops.square(y_pred - y_true))

    def get_config(self):
        config = super().get_config()
        config.update({"weight": self.weight})
        return config


def curve_l2_loss() -> L2Loss:
    """The linearisation stage's inverse-CRF term, 0.1 x L2."""
    return L2Loss(LIU_CURVE_LOSS_WEIGHT, name="inverse_crf_l2")


@keras.saving.register_keras_serializable(package="hdr_keras")
class HallucinationLoss(keras.losses.Loss):
    """SingleHDR's Hallucination-Net loss on linear HDR (target and prediction).

    With T(x) = log(1 + 10 x) / log(11):
        mean|T(pred) - T(true)| + perceptual_weight * sum_{k=1..3}
        mean|VGG_poolk(T(pred)) - VGG_poolk(T(true))| + tv_weight * TV(T(pred)).
    The perceptual term needs VGG16 weights from a local file (`vgg_weights`, a
    Keras VGG16 include_top=False weights file); without one it is disabled and a
    WARNING is logged. Nothing is downloaded.

    Args:
        vgg_weights: local VGG16 weights file or None.
        perceptual_weight: 0.001 in the official code.
        tv_weight: 0.1 in the official code.
    """

    def __init__(
        self,
        vgg_weights: str | None = None,
        perceptual_weight: float = LIU_PERCEPTUAL_WEIGHT,
        tv_weight: float = LIU_TV_WEIGHT,
        name: str = "hallucination_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.vgg_weights = None if vgg_weights is None else str(vgg_weights)
        self.perceptual_weight = float(perceptual_weight)
        self.tv_weight = float(tv_weight)
        self._features = None
        if self.vgg_weights is not None and self.perceptual_weight:
            self._features = vgg16_pool_features(self.vgg_weights)
        elif self.perceptual_weight:
            _liu_log.warning(
                "HallucinationLoss: no VGG16 weights file given (--vgg_weights); the "
                "perceptual term (weight %g) is disabled",
                self.perceptual_weight,
            )

    def call(self, y_true, y_pred):
        pred = log_compress(y_pred)
        true = log_compress(ops.cast(y_true, y_pred.dtype))
        loss = ops.mean(ops.abs(pred - true))
        if self.tv_weight:
            loss = loss + self.tv_weight * total_variation_l1(pred)
        if self._features is not None:
            perceptual = 0.0
            for f_pred, f_true in zip(self._features(pred), self._features(true)):
                perceptual = perceptual + ops.mean(ops.abs(f_pred - f_true))
            loss = loss + self.perceptual_weight * perceptual
        return loss

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vgg_weights": self.vgg_weights,
                "perceptual_weight": self.perceptual_weight,
                "tv_weight": self.tv_weight,
            }
        )
        return config


def normalize_mean(images, mean: float = LIU_HDR_MEAN, eps: float = 1e-6):
    """Scales each image [B, H, W, C] so that its mean is `mean` (official code)."""
    per_image = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return images / (eps + per_image) * mean


@keras.saving.register_keras_serializable(package="hdr_keras")
class RefinementLoss(keras.losses.Loss):
    """mean|T(n(pred)) - T(n(true))|, T(x) = log(1 + 10 x) / log(11).

    n() scales an image to mean 0.5 (`normalize_mean`) as the official fine-tuning
    code does, so the loss ignores the unknown absolute exposure; `normalize=False`
    compares the images as they are.

    Args:
        normalize: scale both images to mean 0.5 first.
    """

    def __init__(self, normalize: bool = True, name: str = "refinement_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.normalize = bool(normalize)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        if self.normalize:
            y_true, y_pred = normalize_mean(y_true), normalize_mean(y_pred)
        return ops.mean(ops.abs(log_compress(y_pred) - log_compress(y_true)))

    def get_config(self):
        config = super().get_config()
        config.update({"normalize": self.normalize})
        return config


def liu_joint_losses(vgg_weights: str | None = None) -> dict[str, keras.losses.Loss]:
    """The joint fine-tuning loss: every stage's loss on its own output of
    `hdr_keras.models.liu.joint_view` (Keras sums them)."""
    return {
        "dequantized": L2Loss(name="dequantized_l2"),
        "linear": L2Loss(name="linear_l2"),
        "inverse_crf": curve_l2_loss(),
        "hallucinated": HallucinationLoss(vgg_weights),
        "hdr": RefinementLoss(),
    }
