"""VGG16 pieces shared by HDRCNN, SingleHDR's Hallucination-Net and its loss.

- `load_vgg16_notop`: Keras VGG16 (no top) from a LOCAL weights file, the one place
  that opens one (HDRCNN's and SingleHDR's encoders, SingleHDR's perceptual loss);
- `vgg16_encoder`: the conv1_1..conv5_3 layers with their five max-pools, named as
  `keras.applications.VGG16`, so `load_vgg16_weights` copies a file's weights in.
Nothing is ever downloaded. Besides Keras weight files, a `.npy` dict
{conv1_1..conv5_3: {weights, biases}} (caffe-tensorflow, e.g. HDRCNN's
`vgg16_places365_weights.npy`) is read through `hdr_keras.io.vgg16_npy`.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

# VGG16 blocks as (number of convs, channels); layer names follow keras.applications.
VGG16_BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


def load_vgg16_notop(path: str | Path) -> keras.Model:
    """`keras.applications.VGG16(include_top=False)` with the weights in `path`.

    Raises:
        FileNotFoundError: naming the file when it does not exist.
        ValueError: naming the file when Keras cannot load it as VGG16 weights.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"VGG16 weights file not found: {path}")
    if path.suffix.lower() == ".npy":  # caffe-tensorflow dict (HDRCNN's Places VGG16)
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


def vgg16_encoder(vgg_input):
    """VGG16 conv layers; returns (pool5, activations before each pool)."""
    x = vgg_input
    before_pool = []
    for block, (num_convs, channels) in enumerate(VGG16_BLOCKS, start=1):
        for conv in range(1, num_convs + 1):
            x = layers.Conv2D(
                channels,
                3,
                padding="same",
                activation="relu",
                name=f"block{block}_conv{conv}",
            )(x)
        before_pool.append(x)
        x = layers.MaxPooling2D(
            2, strides=2, padding="same", name=f"block{block}_pool"
        )(x)
    return x, before_pool


def vgg16_layer_names() -> list[str]:
    """Names of the encoder's convolution layers (as in keras.applications.VGG16)."""
    return [
        f"block{block}_conv{conv}"
        for block, (num_convs, _) in enumerate(VGG16_BLOCKS, start=1)
        for conv in range(1, num_convs + 1)
    ]


def load_vgg16_weights(model: keras.Model, path: str | Path) -> None:
    """Copies VGG16 convolution weights from a local Keras weights file into `model`.

    Raises FileNotFoundError naming the file when it does not exist; never downloads.
    """
    vgg = load_vgg16_notop(path)
    for layer_name in vgg16_layer_names():
        model.get_layer(layer_name).set_weights(vgg.get_layer(layer_name).get_weights())
