"""Every registered method exports to a SavedModel equal to the Keras model."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import hdr_keras
from hdr_keras.methods.kalantari.flow_alignment import FlowAlignment
from hdr_keras.spec import SINGLE
from serving.export import export_model

ODD_HEIGHT, ODD_WIDTH = 333, 517
# Models with optical flow in the graph (Kalantari's FlowAlignment) are stride 1:
# a small odd size exercises the same code and keeps the test fast.
FLOW_HEIGHT, FLOW_WIDTH = 45, 67


@pytest.mark.slow
@pytest.mark.parametrize("method", hdr_keras.list_methods())
def test_export_equals_keras_on_odd_size(method, tmp_path):
    spec = hdr_keras.get_method(method)
    keras.utils.set_random_seed(11)
    model = hdr_keras.build_model(method)
    path = export_model(model, tmp_path / method, spec.input_kind)
    served = tf.saved_model.load(str(path))
    rng = np.random.default_rng(0)
    height, width = ODD_HEIGHT, ODD_WIDTH
    if any(isinstance(layer, FlowAlignment) for layer in model.layers):
        height, width = FLOW_HEIGHT, FLOW_WIDTH
    if spec.input_kind == SINGLE:
        ldr = rng.uniform(0, 1, (1, height, width, 3)).astype("float32")
        outputs = served.signatures["serving_default"](ldr=tf.constant(ldr))
        expected = model(ldr)
    else:  # stack methods
        ldr = rng.uniform(0, 1, (1, 3, height, width, 3)).astype("float32")
        exposure = np.array([[0.0, 2.0, 4.0]], "float32")
        outputs = served.signatures["serving_default"](
            ldr=tf.constant(ldr), exposure=tf.constant(exposure)
        )
        expected = model({"ldr": ldr, "exposure": exposure})
    assert outputs["hdr"].shape == (1, height, width, 3)
    np.testing.assert_allclose(outputs["hdr"], expected, rtol=1e-4, atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
        bad = np.full((1, 32, 32, 3), np.nan, "float32")
        if spec.input_kind == SINGLE:
            served.signatures["serving_default"](ldr=tf.constant(bad))
        else:
            served.signatures["serving_default"](
                ldr=tf.constant(np.stack([bad[0]] * 3)[None]),
                exposure=tf.constant(exposure),
            )
