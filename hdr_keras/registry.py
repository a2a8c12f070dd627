"""Method name -> builder, input kind and defaults. Registration is explicit.

Each method is one module in `hdr_keras.models` and one `MethodSpec` entry below;
an unknown name raises with the list of valid names (no silent fallback).
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Callable, Mapping

import keras

from hdr_keras.models import ahdrnet, eilertsen, kalantari, liu, wu
from hdr_keras.models import debevec, inverse_curve, mertens

SINGLE = "single"  # input `ldr` [B, H, W, 3]
STACK = "stack"  # inputs `ldr` [B, N, H, W, 3] and `exposure` [B, N]
LINEAR = "linear"  # output `hdr` is linear radiance
DISPLAY = "display"  # output `hdr` is a display-referred image in [0, 1] (Mertens)


@dataclasses.dataclass(frozen=True)
class MethodSpec:
    """What the package knows about one method.

    Attributes:
        name: registry name, e.g. "eilertsen".
        builder: callable(**kwargs) -> keras.Model mapping the inputs to linear HDR.
        input_kind: SINGLE or STACK (serving signature and data pipeline).
        paper: short reference.
        stride: spatial multiple the network pads to internally.
        loss_model: callable(model) -> model whose output the training loss takes
            (identity when the loss applies to the HDR output itself).
        parts: named parts of the network for fine-tuning (`hdr_keras.freeze`):
            part name -> fnmatch patterns over the top-level layer names of the
            built model. Parts may overlap; together they cover every layer that
            has weights. Stored read-only. Empty for training-free methods.
        training_free: the method has no trained weights (classic methods): it is
            used through `--method` directly and `training.main` refuses it.
        output_kind: LINEAR (radiance) or DISPLAY (a display image in [0, 1]).
        whole_image: the method needs the whole image at once (a global
            calibration or pyramid), so `serving.predict` does not tile it.
    """

    name: str
    builder: Callable[..., keras.Model]
    input_kind: str
    paper: str
    stride: int = 1
    loss_model: Callable[[keras.Model], keras.Model] = lambda model: model
    parts: Mapping[str, tuple[str, ...]] = dataclasses.field(
        default_factory=dict, hash=False
    )
    training_free: bool = False
    output_kind: str = LINEAR
    whole_image: bool = False

    def __post_init__(self):
        parts = {name: tuple(patterns) for name, patterns in self.parts.items()}
        object.__setattr__(self, "parts", types.MappingProxyType(parts))


# Parts per method (fnmatch patterns over top-level layer names; see each builder).
EILERTSEN_PARTS = {
    # VGG16 conv1_1..conv5_3, the layers `eilertsen.load_vgg16_weights` fills.
    "encoder": ("block*_conv*",),
    # The 3x3 convolution + BN at 1/32 resolution between encoder and decoder.
    "latent": ("latent_*",),
    # Deconvolutions + BN, the skip fusions and the output convolution.
    "decoder": ("decoder*_*", "skip*_*", "output_*"),
    # Only the 1x1 skip fusions (log-domain encoder activations -> decoder).
    "skips": ("skip*_*",),
    # The last 1x1 conv + BN and the fusion with the input image.
    "output": ("output_*", "skip_input_*"),
}
AHDRNET_PARTS = {
    # The 3x3 convolution shared by every frame.
    "encoder": ("conv1", "conv1_lrelu*"),
    # One attention module per non-reference frame.
    "attention": ("attention*",),
    # The merging network: merge conv, DRDBs, fusion, global residual.
    "merge": ("merge_*", "drdb*", "fusion_*", "global_residual"),
    # Only the dilated residual dense blocks.
    "drdb": ("drdb*",),
    # The two 3x3 convolutions to RGB and the sigmoid.
    "output": ("conv_up", "conv_out", "hdr"),
}
WU_PARTS = {
    # One (unshared) encoder per frame: two stride-2 convs + BN.
    "encoder": ("encoder*_*",),
    # Fusion of the encodings at low resolution (ResNet: conv + residual blocks;
    # U-Net: the extra stride-2 conv levels).
    "merger": ("merger*", "res_block*"),
    # Deconvolutions with skip connections and the output convolution.
    "decoder": ("decoder*", "out_*"),
    # Only the final 5x5 convolution to RGB and the tanh.
    "output": ("out_*",),
}
# The ResNet variant also names its merger's 9 residual blocks.
WU_RESNET_PARTS = {**WU_PARTS, "res_blocks": ("res_block*",)}
KALANTARI_PARTS = {
    # The three hidden convolutions (7x7, 5x5, 3x3) with ReLU.
    "convs": ("conv[0-9]",),
    # The 1x1 sigmoid convolution(s): HDR (direct), weights, refined images (WIE).
    "output": ("output", "refine"),
}
KALANTARI_PAPER = (
    "Kalantari & Ramamoorthi 2017, Deep high dynamic range imaging of dynamic "
    "scenes (optical-flow alignment + CNN merge"
)
# SingleHDR: its four networks are nested models named after the parts.
LIU_PARTS = {name: (name,) for name in liu.SUBMODELS}


_METHODS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec(
            name="eilertsen",
            builder=eilertsen.build_eilertsen,
            input_kind=SINGLE,
            paper="Eilertsen et al. 2017, HDR image reconstruction from a single "
            "exposure using deep CNNs (HDRCNN)",
            stride=eilertsen.STRIDE,
            loss_model=eilertsen.log_hdr_model,
            parts=EILERTSEN_PARTS,
        ),
        MethodSpec(
            name="ahdrnet",
            builder=ahdrnet.build_ahdrnet,
            input_kind=STACK,
            paper="Yan et al. 2019, Attention-guided network for ghost-free high "
            "dynamic range imaging (AHDRNet)",
            stride=ahdrnet.STRIDE,
            parts=AHDRNET_PARTS,
        ),
        MethodSpec(
            name="wu_resnet",
            builder=wu.build_wu_resnet,
            input_kind=STACK,
            paper="Wu et al. 2018, Deep high dynamic range imaging with large "
            "foreground motions (ResNet variant, the authors' code)",
            stride=wu.RESNET_STRIDE,
            loss_model=wu.tonemapped_model,
            parts=WU_RESNET_PARTS,
        ),
        MethodSpec(
            name="wu_unet",
            builder=wu.build_wu_unet,
            input_kind=STACK,
            paper="Wu et al. 2018, Deep high dynamic range imaging with large "
            "foreground motions (U-Net variant of the paper)",
            stride=wu.UNET_STRIDE,
            loss_model=wu.tonemapped_model,
            parts=WU_PARTS,
        ),
        MethodSpec(
            name="kalantari_direct",
            builder=kalantari.build_kalantari_direct,
            input_kind=STACK,
            paper=KALANTARI_PAPER + ", direct variant)",
            stride=kalantari.STRIDE,
            loss_model=kalantari.training_model,
            parts=KALANTARI_PARTS,
        ),
        MethodSpec(
            name="kalantari_we",
            builder=kalantari.build_kalantari_we,
            input_kind=STACK,
            paper=KALANTARI_PAPER + ", weight estimator)",
            stride=kalantari.STRIDE,
            loss_model=kalantari.training_model,
            parts=KALANTARI_PARTS,
        ),
        MethodSpec(
            name="kalantari_wie",
            builder=kalantari.build_kalantari_wie,
            input_kind=STACK,
            paper=KALANTARI_PAPER + ", weight and image estimator)",
            stride=kalantari.STRIDE,
            loss_model=kalantari.training_model,
            parts=KALANTARI_PARTS,
        ),
        MethodSpec(
            name="liu",
            builder=liu.build_liu,
            input_kind=SINGLE,
            paper="Liu et al. 2020, Single-image HDR reconstruction by learning to "
            "reverse the camera pipeline (SingleHDR)",
            stride=liu.STRIDE,
            parts=LIU_PARTS,
        ),
        # Training-free (classic) methods: no weights, usable at once.
        MethodSpec(
            name="debevec",
            builder=debevec.build_debevec,
            input_kind=STACK,
            paper="Debevec & Malik 1997, Recovering high dynamic range radiance maps "
            "from photographs (response calibrated on the input stack)",
            stride=debevec.STRIDE,
            training_free=True,
            whole_image=True,
        ),
        MethodSpec(
            name="mertens",
            builder=mertens.build_mertens,
            input_kind=STACK,
            paper="Mertens, Kautz & Van Reeth 2007, Exposure fusion (display "
            "image, not radiance)",
            stride=mertens.STRIDE,
            training_free=True,
            output_kind=DISPLAY,
            whole_image=True,
        ),
        MethodSpec(
            name="inverse_curve",
            builder=inverse_curve.build_inverse_curve,
            input_kind=SINGLE,
            paper="Inverse camera curve only, x ** 2 (HDRCNN's linearisation, no "
            "hallucination): the single-image baseline",
            stride=inverse_curve.STRIDE,
            training_free=True,
        ),
    )
}


def list_methods() -> list[str]:
    """Registered method names, sorted."""
    return sorted(_METHODS)


def get_method(name: str) -> MethodSpec:
    """The spec of `name`; ValueError listing the valid names when unknown."""
    try:
        return _METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown method {name!r}; valid methods: {', '.join(list_methods())}"
        ) from None


def build_model(name: str, **kwargs: Any) -> keras.Model:
    """Builds method `name` with its default arguments overridden by `kwargs`."""
    return get_method(name).builder(**kwargs)
