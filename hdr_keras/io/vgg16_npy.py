"""A Keras VGG16 (no top) from a caffe-tensorflow `.npy` weight dict.

HDRCNN's training code initialises its encoder from `vgg16_places365_weights.npy`
(VGG16 trained on Places365, converted from Caffe with caffe-tensorflow): a pickled
dict {"conv1_1": {"weights": [3, 3, in, out], "biases": [out]}, ..., "fc8": ...}.
Its `load_vgg_weights` keeps the keys starting with "conv" (sorted: conv1_1 ..
conv5_3), so do we; the fully connected layers are ignored. The kernels are in
Keras' layout and expect Caffe's input (BGR, mean-subtracted, 0-255), which is what
`keras.applications.VGG16` and hdr-keras' `VGGPreprocess` use.
"""

from __future__ import annotations

import keras
import numpy as np

from hdr_keras.io.tensorlayer import read_caffe_npy_dict
from hdr_keras.io.weight_files import PathLike, WeightsFileError

VGG16_BLOCKS = (2, 2, 3, 3, 3)


def load_vgg16_npy(path: PathLike) -> keras.Model:
    """`keras.applications.VGG16(include_top=False, weights=None)` filled from the
    caffe-tensorflow dict at `path`.

    Raises:
        FileNotFoundError: no such file.
        WeightsFileError (a ValueError): not such a dict, a missing or unknown
            conv layer, or a wrong shape (names the file and the array).
    """
    layers = read_caffe_npy_dict(path)
    expected = [
        f"conv{block}_{conv}"
        for block, convs in enumerate(VGG16_BLOCKS, start=1)
        for conv in range(1, convs + 1)
    ]
    unknown = sorted(k for k in layers if k.startswith("conv") and k not in expected)
    if unknown:
        raise WeightsFileError(path, f"unknown VGG16 layer {unknown[0]}")
    model = keras.applications.VGG16(
        include_top=False, weights=None, input_shape=(None, None, 3)
    )
    for name in expected:
        if name not in layers:
            raise WeightsFileError(path, f"missing VGG16 layer {name}")
        block, conv = name[4:].split("_")
        layer = model.get_layer(f"block{block}_conv{conv}")
        for key, variable in (("weights", layer.kernel), ("biases", layer.bias)):
            if key not in layers[name]:
                raise WeightsFileError(path, f"missing array {name}/{key}")
            value = np.asarray(layers[name][key]).reshape(
                (-1,) if key == "biases" else layers[name][key].shape
            )
            if tuple(value.shape) != tuple(variable.shape):
                raise WeightsFileError(
                    path,
                    f"array {name}/{key} has shape {list(value.shape)}, expected "
                    f"{list(variable.shape)}",
                )
            variable.assign(value.astype("float32"))
    return model
