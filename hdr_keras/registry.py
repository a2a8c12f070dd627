"""The registered methods: one `MethodSpec` per line, and the lookups.

Each method is one package in `hdr_keras.methods` that defines its spec(s)
(`hdr_keras.spec.MethodSpec`); registering a method is one line in `SPECS` below.
An unknown name raises with the list of valid names (no silent fallback).
"""

from __future__ import annotations

from typing import Any

import keras

from hdr_keras.methods import ahdrnet, debevec, eilertsen, inverse_curve
from hdr_keras.methods import kalantari, liu, mertens, wu
from hdr_keras.spec import MethodSpec

SPECS: tuple[MethodSpec, ...] = (
    eilertsen.SPEC,
    ahdrnet.SPEC,
    wu.RESNET_SPEC,
    wu.UNET_SPEC,
    kalantari.DIRECT_SPEC,
    kalantari.WE_SPEC,
    kalantari.WIE_SPEC,
    liu.SPEC,
    # Training-free (classic) methods: no weights, usable at once.
    debevec.SPEC,
    mertens.SPEC,
    inverse_curve.SPEC,
)

_METHODS: dict[str, MethodSpec] = {spec.name: spec for spec in SPECS}


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
