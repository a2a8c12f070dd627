"""PCA weights -> monotone inverse camera curve (SingleHDR's Linearization-Net head)."""

from __future__ import annotations

import keras
import numpy as np

from hdr_keras.constants import CRF_NUM_COMPONENTS, CRF_SAMPLES
from hdr_keras.ops.crf import CurveBasis, monotone_curve_from_weights


@keras.saving.register_keras_serializable(package="hdr_keras")
class MonotoneInverseCurve(keras.layers.Layer):
    """[B, K] PCA weights -> [B, 1024] increasing inverse curve from 0 to 1.

    curve = g0 + w @ hinv, then the monotone construction of
    `hdr_keras.ops.crf.monotone_curve_from_weights` (differences shifted by
    relu(-min), normalised to sum 1, cumulative sum, 0 prepended).

    The mean g0 [1024] and basis hinv [K, 1024] are NON-trainable weights of the
    layer, filled from `basis` (a `CurveBasis`: EMoR's invemor.txt or the built-in
    PCA basis) when the layer is built. They are saved with the model's weights,
    so a loaded model keeps the basis it was trained with; `basis` itself is not
    part of the config (its `source` is, for information).

    Args:
        num_components: K, the number of PCA weights (11 in SingleHDR).
        basis: a `CurveBasis` with at least K components, used to initialise the
            weights; None (deserialisation): zeros until the saved weights load.
        basis_source: description of the basis (set from `basis.source`).
    Reference: Liu et al., CVPR 2020, Sec. 3.2; Grossberg & Nayar 2004 (EMoR).
    """

    def __init__(
        self,
        num_components: int = CRF_NUM_COMPONENTS,
        basis: CurveBasis | None = None,
        basis_source: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_components = int(num_components)
        if basis is not None:
            if basis.num_components < self.num_components:
                raise ValueError(
                    f"MonotoneInverseCurve: basis {basis.source} has "
                    f"{basis.num_components} components, {self.num_components} needed"
                )
            basis_source = basis.source
        self.basis_source = basis_source
        self._initial_basis = basis

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.num_components:
            raise ValueError(
                f"MonotoneInverseCurve expects [B, {self.num_components}] weights, got "
                f"{tuple(input_shape)}"
            )
        basis = self._initial_basis
        mean = np.zeros(CRF_SAMPLES, "float32")
        components = np.zeros((self.num_components, CRF_SAMPLES), "float32")
        if basis is not None:
            mean = np.asarray(basis.inverse_mean, "float32")
            components = np.asarray(
                basis.inverse_basis[: self.num_components], "float32"
            )
        self.mean = self.add_weight(
            shape=(CRF_SAMPLES,),
            initializer=keras.initializers.Constant(mean),
            trainable=False,
            name="inverse_mean",
        )
        self.basis = self.add_weight(
            shape=(self.num_components, CRF_SAMPLES),
            initializer=keras.initializers.Constant(components),
            trainable=False,
            name="inverse_basis",
        )
        self.built = True

    def call(self, weights):
        return monotone_curve_from_weights(weights, self.mean, self.basis)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], CRF_SAMPLES)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"num_components": self.num_components, "basis_source": self.basis_source}
        )
        return config
