"""Custom serialisable Keras layers and initialisers shared by two or more methods,
one concept per file. A layer only one method uses lives in that method's package
(`hdr_keras.methods.<family>`)."""

from hdr_keras.layers.initializers import AdditiveFusion, BilinearUpsampling
from hdr_keras.layers.padding import CropToMatch, PadToMultiple
from hdr_keras.layers.reflect_conv import ReflectConv2D
from hdr_keras.layers.stack_features import SelectFrame, StackFeatures
from hdr_keras.layers.vgg_preprocess import VGGPreprocess

__all__ = [
    "AdditiveFusion",
    "BilinearUpsampling",
    "CropToMatch",
    "PadToMultiple",
    "ReflectConv2D",
    "SelectFrame",
    "StackFeatures",
    "VGGPreprocess",
]
