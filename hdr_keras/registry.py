"""Method name -> builder, input kind and defaults. Registration is explicit.

Each method is one module in `hdr_keras.models` and one `MethodSpec` entry below;
an unknown name raises with the list of valid names (no silent fallback).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import keras

from hdr_keras.models import ahdrnet, eilertsen, wu

SINGLE = "single"  # input `ldr` [B, H, W, 3]
STACK = "stack"  # inputs `ldr` [B, N, H, W, 3] and `exposure` [B, N]


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
    """

    name: str
    builder: Callable[..., keras.Model]
    input_kind: str
    paper: str
    stride: int = 1
    loss_model: Callable[[keras.Model], keras.Model] = lambda model: model


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
        ),
        MethodSpec(
            name="ahdrnet",
            builder=ahdrnet.build_ahdrnet,
            input_kind=STACK,
            paper="Yan et al. 2019, Attention-guided network for ghost-free high "
            "dynamic range imaging (AHDRNet)",
            stride=ahdrnet.STRIDE,
        ),
        MethodSpec(
            name="wu_resnet",
            builder=wu.build_wu_resnet,
            input_kind=STACK,
            paper="Wu et al. 2018, Deep high dynamic range imaging with large "
            "foreground motions (ResNet variant, the authors' code)",
            stride=wu.RESNET_STRIDE,
            loss_model=wu.tonemapped_model,
        ),
        MethodSpec(
            name="wu_unet",
            builder=wu.build_wu_unet,
            input_kind=STACK,
            paper="Wu et al. 2018, Deep high dynamic range imaging with large "
            "foreground motions (U-Net variant of the paper)",
            stride=wu.UNET_STRIDE,
            loss_model=wu.tonemapped_model,
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
