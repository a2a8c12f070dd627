"""Debevec & Malik 1997 as a registry model: calibrate on the input stack, then merge.

No weights: each call recovers the camera response of the stack it is given
(grid or Grossberg 2003 sampling + `g_solve`, `hdr_keras.methods.debevec.core`) and
merges the
frames into linear radiance, all in TensorFlow ops, so the exported SavedModel
does the whole job inside TF Serving. Stacks of a batch are calibrated one by one.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from hdr_keras.methods.debevec import core as debevec

STRIDE = 1  # per-pixel merge; the calibration uses the whole image (no tiling)


@keras.saving.register_keras_serializable(package="hdr_keras")
class DebevecMerge(keras.layers.Layer):
    """Response recovery + radiance merge of stacks [B, N, H, W, 3] -> [B, H, W, 3].

    Called as `DebevecMerge()(ldr, exposure)` with `ldr` display-referred in [0, 1]
    (any N >= 2, any frame order) and `exposure` [B, N] in stops.

    Args:
        samples: samples per frame (1024: a 32 x 32 grid).
        sampling: "grid" (pixels on a regular grid) or "grossberg" (histogram
            quantiles, colour-hdri's).
        smoothness: l_s, weight of the smoothness rows (30).
        levels: levels of the response curve (256).
        weight_domain: (low, high) support of the triangle weight ((0.01, 0.99)).
    Reference: Debevec & Malik, SIGGRAPH 1997; Grossberg & Nayar, PAMI 2003.
    """

    def __init__(
        self,
        samples: int = debevec.SAMPLES,
        smoothness: float = debevec.SMOOTHNESS,
        levels: int = debevec.LEVELS,
        weight_domain=debevec.WEIGHT_DOMAIN,
        sampling: str = "grid",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(samples) < 2 or int(levels) < 4:
            raise ValueError(
                f"samples must be >= 2 and levels >= 4, got {samples}, {levels}"
            )
        self.samples = int(samples)
        self.smoothness = float(smoothness)
        self.levels = int(levels)
        self.weight_domain = tuple(float(v) for v in weight_domain)
        if sampling not in debevec.SAMPLINGS:
            raise ValueError(
                f"sampling must be one of {debevec.SAMPLINGS}, got {sampling!r}"
            )
        self.sampling = sampling
        debevec.weighted_level_range(self.weight_domain, self.levels)  # validates

    def _one_stack(self, inputs):
        ldr, exposure = inputs
        return debevec.debevec_hdr(
            ldr,
            exposure,
            self.samples,
            self.smoothness,
            self.levels,
            self.weight_domain,
            self.sampling,
        )

    @tf.autograph.experimental.do_not_convert
    def call(self, ldr, exposure):
        ldr = tf.ensure_shape(tf.cast(ldr, tf.float32), [None, None, None, None, 3])
        exposure = tf.cast(exposure, tf.float32)
        return tf.map_fn(
            self._one_stack,
            (ldr, exposure),
            fn_output_signature=tf.TensorSpec([None, None, 3], tf.float32),
        )

    def compute_output_spec(self, ldr, exposure):
        shape = (ldr.shape[0], ldr.shape[2], ldr.shape[3], 3)
        return keras.KerasTensor(shape, dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "samples": self.samples,
                "smoothness": self.smoothness,
                "levels": self.levels,
                "weight_domain": list(self.weight_domain),
                "sampling": self.sampling,
            }
        )
        return config


def build_debevec(
    samples: int = debevec.SAMPLES,
    smoothness: float = debevec.SMOOTHNESS,
    levels: int = debevec.LEVELS,
    weight_domain=debevec.WEIGHT_DOMAIN,
    sampling: str = "grid",
    name: str = "debevec",
) -> keras.Model:
    """The `debevec` method: {"ldr" [B, N, H, W, 3], "exposure" [B, N]} -> HDR.

    The output is linear radiance [B, H, W, 3] in units of the shortest exposure,
    anchored at the mid level (`hdr_keras.methods.debevec.core`, "Output units"). Any N
    >= 2, H and W; no trainable weights.
    """
    ldr = keras.Input((None, None, None, 3), name="ldr")
    exposure = keras.Input((None,), name="exposure")
    merge = DebevecMerge(
        samples, smoothness, levels, weight_domain, sampling, name="merge"
    )
    hdr = merge(ldr, exposure)
    return keras.Model({"ldr": ldr, "exposure": exposure}, hdr, name=name)
