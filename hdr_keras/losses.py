"""Training losses shared by two or more methods (a method's own losses live in its
package, e.g. `hdr_keras.methods.eilertsen.losses`, `hdr_keras.methods.liu.losses`).

The stack methods (Kalantari 2017, Wu 2018, AHDRNet 2019) compare linear HDR after
the mu-law tonemapper: `mu_law_l1`, `mu_law_l2` and the serialisable `MuLawLoss`.
"""

from __future__ import annotations

import keras
from keras import ops

from hdr_keras.ops.tonemap import mu_law

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
    (prediction="mu_law", e.g. the output of `hdr_keras.methods.wu.tonemapped_model`).

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
