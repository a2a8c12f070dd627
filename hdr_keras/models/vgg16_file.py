"""Keras VGG16 (no top) from a LOCAL weights file: the one place that opens one.

Used by HDRCNN's and SingleHDR's encoders (`load_vgg16_weights`) and by SingleHDR's
perceptual loss. Nothing is ever downloaded. Besides Keras weight files, a `.npy`
dict {conv1_1..conv5_3: {weights, biases}} (caffe-tensorflow, e.g. HDRCNN's
`vgg16_places365_weights.npy`) is read through `hdr_keras.io.vgg16_npy`.
"""

from __future__ import annotations

from pathlib import Path

import keras


def load_vgg16_notop(path: str | Path) -> keras.Model:
    """`keras.applications.VGG16(include_top=False)` with the weights in `path`.

    Raises:
        FileNotFoundError: naming the file when it does not exist.
        ValueError: naming the file when Keras cannot load it as VGG16 weights.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"VGG16 weights file not found: {path}")
    if path.suffix.lower() == ".npy":
        from hdr_keras.io.vgg16_npy import load_vgg16_npy

        return load_vgg16_npy(path)
    try:
        return keras.applications.VGG16(
            include_top=False, weights=str(path), input_shape=(None, None, 3)
        )
    except Exception as error:  # keras raises several types for unreadable files
        raise ValueError(
            f"{path}: cannot load as Keras VGG16 (include_top=False) weights: {error}"
        ) from error
