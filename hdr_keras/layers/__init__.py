"""Custom serialisable Keras layers and initialisers, one concept per file."""

from hdr_keras.layers.highlight_blend import HighlightBlend
from hdr_keras.layers.initializers import AdditiveFusion, BilinearUpsampling
from hdr_keras.layers.log_domain_transform import LogDomainTransform
from hdr_keras.layers.padding import CropToMatch, PadToMultiple
from hdr_keras.layers.vgg_preprocess import VGGPreprocess

__all__ = [
    "AdditiveFusion",
    "BilinearUpsampling",
    "CropToMatch",
    "HighlightBlend",
    "LogDomainTransform",
    "PadToMultiple",
    "VGGPreprocess",
]
