"""SingleHDR: single-image HDR by reversing the camera pipeline (Liu et al., CVPR 2020).

`build_liu()` is the whole pipeline as one model, LDR -> linear HDR:

    ldr -> pad to 64 -> Dequantization-Net -> C
    C -> Linearization-Net -> inverse CRF g [B, 1024];  B = g(C)  (`CurveApplication`)
    B -> Hallucination-Net -> A = B + alpha relu(y)
    (A, B, C) -> Refinement-Net -> relu(A + r) -> crop -> hdr

The four networks (`hdr_keras.methods.liu.networks`) are nested models named
"dequantization", "linearization", "hallucination" and "refinement" (the registry
parts), so they can be trained, frozen and exported alone: `submodel(model, name)`.
The output is radiance in the units of the linearised input (1 = the camera's
white); the absolute scale of a single LDR image is unknown.

Training views (`*_view(model)`) share the layers and expose each stage's output,
cropped to the input size, for the per-stage losses:
    dequantization_view: C;  linearization_view: {"linear": B, "inverse_crf": g};
    hallucination_view: A;  refinement_view: the final HDR;
    joint_view: {"dequantized", "linear", "inverse_crf", "hallucinated", "hdr"}.
"""

from __future__ import annotations

from pathlib import Path

import keras

from hdr_keras.constants import CRF_NUM_COMPONENTS
from hdr_keras.methods.liu.constants import LIU_TAU
from hdr_keras.methods.liu.curve_application import CurveApplication
from hdr_keras.layers.padding import CropToMatch, PadToMultiple
from hdr_keras.methods.liu import networks as liu_networks
from hdr_keras.ops.crf import default_basis

STRIDE = 64  # the official evaluation pads images to a multiple of 64
SUBMODELS = ("dequantization", "linearization", "hallucination", "refinement")
JOINT_OUTPUTS = ("dequantized", "linear", "inverse_crf", "hallucinated", "hdr")


def build_liu(
    vgg_weights: str | Path | None = None,
    emor_dir: str | Path | None = None,
    num_components: int = CRF_NUM_COMPONENTS,
    tau: float = LIU_TAU,
    name: str = "liu",
) -> keras.Model:
    """Builds the SingleHDR pipeline for inputs `ldr` [B, H, W, 3] in [0, 1] (RGB).

    Args:
        vgg_weights: local Keras VGG16 (include_top=False) weights for the
            Hallucination-Net encoder; None: random. Never downloaded.
        emor_dir: folder with EMoR's emor.txt / invemor.txt for the inverse-CRF
            basis; None: $HDR_KERAS_EMOR_DIR, else the built-in basis
            (`hdr_keras.ops.crf.default_basis`).
        num_components: PCA weights of the inverse curve (11 as the official code).
        tau: Hallucination-Net mask threshold (0.88 code; 0.95 paper).
        name: model name (the registry name, for `hdr_keras.freeze`).
    Returns:
        A functional model `ldr` -> linear HDR [B, H, W, 3] for any H, W >= 32
        (padded symmetrically to a multiple of 64 inside and cropped back).
    """
    basis = default_basis(emor_dir, num_components)
    networks = (
        liu_networks.build_dequantization(),
        liu_networks.build_linearization(basis, num_components),
        liu_networks.build_hallucination(vgg_weights, tau),
        liu_networks.build_refinement(),
    )
    ldr = keras.Input((None, None, 3), name="ldr")
    padded = PadToMultiple(STRIDE, name="pad")(ldr)
    dequantization, linearization, hallucination, refinement = networks
    dequantized = dequantization(padded)
    inverse_crf = linearization(dequantized)
    linear = CurveApplication(name="apply_inverse_crf")([dequantized, inverse_crf])
    hallucinated = hallucination(linear)
    refined = refinement([hallucinated, linear, dequantized])
    hdr = CropToMatch(STRIDE, name="hdr")([refined, ldr])
    return keras.Model(ldr, hdr, name=name)


def submodel(model: keras.Model, name: str) -> keras.Model:
    """The nested network `name` (one of SUBMODELS) of a `build_liu` model."""
    if name not in SUBMODELS:
        raise ValueError(
            f"unknown SingleHDR sub-network {name!r}; valid: {', '.join(SUBMODELS)}"
        )
    try:
        return model.get_layer(name)
    except ValueError:
        raise ValueError(
            f"model {model.name!r} has no sub-network {name!r} (not a build_liu model)"
        ) from None


def _view(model: keras.Model, keys) -> keras.Model:
    """A model ldr -> the stages' outputs `keys` (cropped), sharing `model`'s layers.

    Only the networks the requested outputs depend on are run.
    """
    ldr = keras.Input((None, None, 3), name="ldr")
    padded = PadToMultiple(STRIDE, name="pad")(ldr)
    outputs = {"dequantized": submodel(model, "dequantization")(padded)}
    if set(keys) - {"dequantized"}:
        outputs["inverse_crf"] = submodel(model, "linearization")(
            outputs["dequantized"]
        )
        outputs["linear"] = CurveApplication(name="apply_inverse_crf")(
            [outputs["dequantized"], outputs["inverse_crf"]]
        )
    if set(keys) & {"hallucinated", "hdr"}:
        outputs["hallucinated"] = submodel(model, "hallucination")(outputs["linear"])
    if "hdr" in keys:
        outputs["hdr"] = submodel(model, "refinement")(
            [outputs["hallucinated"], outputs["linear"], outputs["dequantized"]]
        )
    selected = {}
    for key in keys:
        tensor = outputs[key]
        if key != "inverse_crf":  # images are cropped back; curves have no H, W
            tensor = CropToMatch(STRIDE, name=key)([tensor, ldr])
        selected[key] = tensor
    if len(selected) == 1:
        return keras.Model(ldr, selected[keys[0]], name=model.name)
    return keras.Model(ldr, selected, name=model.name)


def dequantization_view(model: keras.Model) -> keras.Model:
    """ldr -> dequantised LDR C (Dequantization-Net stage)."""
    return _view(model, ["dequantized"])


def linearization_view(model: keras.Model) -> keras.Model:
    """ldr -> {"linear": B, "inverse_crf": g} (Linearization-Net stage)."""
    return _view(model, ["linear", "inverse_crf"])


def hallucination_view(model: keras.Model) -> keras.Model:
    """ldr -> A, the hallucinated HDR before refinement (Hallucination-Net stage)."""
    return _view(model, ["hallucinated"])


def refinement_view(model: keras.Model) -> keras.Model:
    """ldr -> the final HDR (Refinement-Net stage); a new model sharing the layers."""
    return _view(model, ["hdr"])


def joint_view(model: keras.Model) -> keras.Model:
    """ldr -> every stage's output (JOINT_OUTPUTS), for the joint fine-tuning loss."""
    return _view(model, list(JOINT_OUTPUTS))
