"""Mertens et al. 2007 exposure fusion as a registry model (display output).

A stack method in the serving sense (inputs `ldr` [B, N, H, W, 3] and `exposure`
[B, N], which fusion ignores), whose output is NOT linear radiance: it is the fused
display-referred image in [0, 1] (clipped), returned under the usual output name
`hdr`. The registry marks it with `output_kind=DISPLAY`; `serving.predict` writes
that image itself as the PNG (and the .exr/.hdr holds the same values).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from hdr_keras.methods.mertens import core as mertens

STRIDE = 1  # the pyramid spans the whole image (no tiling)


@keras.saving.register_keras_serializable(package="hdr_keras")
class ExposureFusion(keras.layers.Layer):
    """Mertens exposure fusion of stacks [B, N, H, W, 3] -> [B, H, W, 3] in [0, 1].

    Called as `ExposureFusion()(ldr, exposure)`; `exposure` is accepted for the
    stack contract and not used.

    Args:
        contrast_weight, saturation_weight, exposure_weight: exponents of the
            quality measures (1, 1, 1 as in the paper; OpenCV's
            createMergeMertens defaults to exposure_weight 0).
        sigma: width of the well-exposedness Gaussian (0.2).
        clip: clip the fused image to [0, 1] (True).
    Reference: Mertens, Kautz & Van Reeth, Pacific Graphics 2007.
    """

    def __init__(
        self,
        contrast_weight: float = 1.0,
        saturation_weight: float = 1.0,
        exposure_weight: float = 1.0,
        sigma: float = mertens.WELL_EXPOSED_SIGMA,
        clip: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.contrast_weight = float(contrast_weight)
        self.saturation_weight = float(saturation_weight)
        self.exposure_weight = float(exposure_weight)
        self.sigma = float(sigma)
        self.clip = bool(clip)

    @tf.autograph.experimental.do_not_convert
    def call(self, ldr, exposure):
        del exposure  # fusion needs no exposure times
        ldr = tf.ensure_shape(tf.cast(ldr, tf.float32), [None, None, None, None, 3])
        return mertens.exposure_fusion(
            ldr,
            self.contrast_weight,
            self.saturation_weight,
            self.exposure_weight,
            self.sigma,
            self.clip,
        )

    def compute_output_spec(self, ldr, exposure):
        shape = (ldr.shape[0], ldr.shape[2], ldr.shape[3], 3)
        return keras.KerasTensor(shape, dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "contrast_weight": self.contrast_weight,
                "saturation_weight": self.saturation_weight,
                "exposure_weight": self.exposure_weight,
                "sigma": self.sigma,
                "clip": self.clip,
            }
        )
        return config


def build_mertens(
    contrast_weight: float = 1.0,
    saturation_weight: float = 1.0,
    exposure_weight: float = 1.0,
    sigma: float = mertens.WELL_EXPOSED_SIGMA,
    name: str = "mertens",
) -> keras.Model:
    """The `mertens` method: {"ldr", "exposure"} -> fused display image [B, H, W, 3]."""
    ldr = keras.Input((None, None, None, 3), name="ldr")
    exposure = keras.Input((None,), name="exposure")
    fused = ExposureFusion(
        contrast_weight, saturation_weight, exposure_weight, sigma, name="fusion"
    )(ldr, exposure)
    return keras.Model({"ldr": ldr, "exposure": exposure}, fused, name=name)
