"""Every registered custom layer and every registered method through the harness.

A layer registered with `keras.saving.register_keras_serializable(package=
"hdr_keras")` must have an example here (the coverage test fails otherwise), so a
new layer cannot ship without its config and .keras round trips.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import tensorflow as tf

import hdr_keras
from hdr_keras.methods.kalantari.flow_alignment import FlowAlignment
from hdr_keras.spec import SINGLE
from tests.harness import run_layer_test, run_model_test

RNG = np.random.default_rng(0)


def _u(*shape, low=0.0, high=1.0):
    return RNG.uniform(low, high, shape).astype("float32")


EXPOSURE = np.array([[0.0, 2.0, 4.0]], "float32")

# class name -> (constructor kwargs, inputs, passed as positional arguments)
LAYER_EXAMPLES = {
    "AttentionModule": ({"features": 4}, [_u(1, 8, 8, 4), _u(1, 8, 8, 4)], False),
    "BilinearUpsample2x": ({}, _u(1, 5, 7, 3), False),
    "CropToMatch": ({"multiple": 8}, [_u(1, 16, 24, 3), _u(1, 13, 17, 3)], False),
    "CurveApplication": ({}, [_u(1, 6, 7, 3), np.sort(_u(1, 1024), -1)], False),
    "DebevecMerge": ({"samples": 64}, [_u(1, 3, 16, 16, 3), EXPOSURE], True),
    "DilatedResidualDenseBlock": (
        {"features": 4, "growth": 2, "num_layers": 2},
        _u(1, 9, 11, 4),
        False,
    ),
    "ExposureFusion": ({}, [_u(1, 3, 16, 16, 3), EXPOSURE], True),
    "FlowAlignment": ({}, [_u(1, 3, 24, 24, 3), EXPOSURE], False),
    "HighlightBlend": ({}, [_u(1, 6, 7, 3), _u(1, 6, 7, 3, low=-2, high=2)], False),
    "HighlightResidual": ({}, [_u(1, 6, 7, 3), _u(1, 6, 7, 3, low=-1)], False),
    "InverseCurve": ({}, _u(1, 6, 7, 3), False),
    "LogDomainTransform": ({}, _u(1, 6, 7, 4), False),
    "MonotoneInverseCurve": ({}, _u(1, 11, low=-1), False),
    "MuLaw": ({}, _u(1, 6, 7, 3), False),
    "PadToMultiple": ({"multiple": 8}, _u(1, 13, 17, 3), False),
    "ReflectConv2D": ({"filters": 2, "kernel_size": 3}, _u(1, 9, 11, 3), False),
    "ResidualBlock": ({"filters": 4}, _u(1, 8, 8, 4), False),
    "SelectFrame": ({"index": 1}, _u(1, 3, 6, 7, 3), False),
    "SobelEdges": ({}, _u(1, 9, 11, 3), False),
    "SoftHistogram": ({"bins": 4}, _u(1, 6, 7, 3), False),
    "StackFeatures": ({}, [_u(1, 3, 6, 7, 3), EXPOSURE], False),
    "StackReflectPad": ({"border": 2}, _u(1, 3, 9, 11, 3), False),
    "VGGPreprocess": ({}, _u(1, 6, 7, 3), False),
    "WeightBlending": ({}, [_u(1, 6, 7, 9), _u(1, 3, 6, 7, 3), EXPOSURE], False),
}


def registered_layers() -> dict[str, type]:
    """Every keras Layer registered under the "hdr_keras" package."""
    return {
        cls.__name__: cls
        for key, cls in keras.saving.get_custom_objects().items()
        if key.startswith("hdr_keras>")
        and isinstance(cls, type)
        and issubclass(cls, keras.layers.Layer)
    }


def test_every_registered_layer_has_an_example():
    assert sorted(registered_layers()) == sorted(LAYER_EXAMPLES)


@pytest.mark.parametrize("name", sorted(LAYER_EXAMPLES))
def test_layer(name, tmp_path):
    kwargs, inputs, positional = LAYER_EXAMPLES[name]
    run_layer_test(
        registered_layers()[name], kwargs, inputs, tmp_path, positional=positional
    )


# Trainable parameters of each method as built by default (METHODS.md; each
# method's own test derives its figure from the architecture).
PARAMETERS = {
    "eilertsen": 29_443_358,
    "liu": 29_036_815,
    "ahdrnet": 1_441_283,
    "wu_resnet": 16_606_339,
    "wu_unet": 12_531_587,
    "kalantari_direct": 383_603,
    "kalantari_we": 383_909,
    "kalantari_wie": 384_368,
    "debevec": 0,
    "mertens": 0,
    "inverse_curve": 0,
}


def test_every_method_has_a_parameter_count():
    assert sorted(PARAMETERS) == hdr_keras.list_methods()


# Odd sizes: stride-32 networks pad and crop back. Models with optical flow in the
# graph (Kalantari's FlowAlignment) are stride 1: a small odd size exercises the
# same code and keeps the test fast.
ODD_SIZE = (333, 517)
FLOW_SIZE = (45, 67)


@pytest.mark.slow
@pytest.mark.parametrize("method", hdr_keras.list_methods())
def test_method(method, tmp_path):
    """Odd size, .keras and SavedModel equality, parameter count; the exported
    signature refuses NaN/Inf (was tests/serving/export/test_export_methods.py)."""
    spec = hdr_keras.get_method(method)

    def sizes(model):
        flow = any(isinstance(layer, FlowAlignment) for layer in model.layers)
        return (FLOW_SIZE if flow else ODD_SIZE,)

    _, served = run_model_test(
        method, tmp_path, sizes=sizes, expected_params=PARAMETERS[method]
    )
    bad = tf.constant(np.full((1, 32, 32, 3), np.nan, "float32"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
        if spec.input_kind == SINGLE:
            served(ldr=bad)
        else:
            served(ldr=tf.stack([bad[0]] * 3)[None], exposure=tf.constant(EXPOSURE))
