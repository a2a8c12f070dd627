"""SingleHDR's training losses (Liu et al. 2020), one per stage and the joint one."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
from keras import ops

from hdr_keras.constants import LIU_HDR_MEAN
from hdr_keras.layers.vgg_preprocess import VGGPreprocess
from hdr_keras.methods.liu.constants import (
    LIU_CURVE_LOSS_WEIGHT,
    LIU_LOG_GAIN,
    LIU_PERCEPTUAL_WEIGHT,
    LIU_TV_WEIGHT,
)
from hdr_keras.ops.tonemap import mu_law
from hdr_keras.vgg16 import load_vgg16_notop

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
    """SingleHDR's loss domain log(1 + gain x) / log(1 + gain) of linear x >= 0:
    the mu-law tonemapper with mu = gain (negative values count as 0)."""
    return mu_law(linear, gain)


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
    `hdr_keras.methods.liu.joint_view` (Keras sums them)."""
    return {
        "dequantized": L2Loss(name="dequantized_l2"),
        "linear": L2Loss(name="linear_l2"),
        "inverse_crf": curve_l2_loss(),
        "hallucinated": HallucinationLoss(vgg_weights),
        "hdr": RefinementLoss(),
    }
