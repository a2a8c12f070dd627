"""Kalantari & Ramamoorthi (2017): the authors' MatConvNet network -> Kalantari models.

Published files: `TrainedNetwork/Net.mat` of the authors' MATLAB code (project
page "Deep High Dynamic Range Imaging of Dynamic Scenes", SIGGRAPH 2017), a
MatConvNet SimpleNN struct `net.layers` (`CreateNet.m`):

    conv 7x7 18->100, relu, conv 5x5 100->100, relu, conv 3x3 100->50, relu,
    conv 1x1 50->K, sigmoid          (pad 0, stride 1: "valid" convolutions)

mapped to conv1, conv2, conv3 and output. Two layout differences:
- Input channels. The authors' `PrepareInputFeatures.m` stacks
  [Z1 Z2 Z3 H1 H2 H3] (three RGB LDR frames, then the three linearised ones);
  hdr-keras feeds per-frame [Z1 H1 Z2 H2 Z3 H3]. The first kernel's input
  channels are permuted accordingly (`input_permutation`).
- Output channels. WE (K = 9): `WeightedAverage.m` reads weights 1:3, 4:6, 7:9 as
  frames 1, 2, 3 (RGB each), hdr-keras' `WeightBlending` layout: no change.
  Direct (K = 3): the sigmoid output is the HDR image, RGB: no change.
  WIE (K = 18): the authors' released code is the WE system only; no published
  code says which of the 18 output channels are weights and which refined
  images, so `kalantari_wie` is refused rather than guessed.

`vl_nnconv` is a cross-correlation over (rows, columns) = (y, x), the layout of
Keras' Conv2D: kernels [kh, kw, in, out] are copied as they are.
"""

from __future__ import annotations

import numpy as np

from hdr_keras.authors.common import AuthorsWeightsError, WeightFiller
from hdr_keras.io.matconvnet import read_matconvnet_layers
from hdr_keras.registry import build_model

NUM_FRAMES = 3  # 18 input channels
OUTPUT_CHANNELS = {"kalantari_direct": 3, "kalantari_we": 9}
LAYER_TYPES = ("conv", "relu", "conv", "relu", "conv", "relu", "conv", "sigmoid")
CONV_LAYERS = ("conv1", "conv2", "conv3", "output")  # model layers, in order


def input_permutation(num_frames: int = NUM_FRAMES) -> np.ndarray:
    """perm[c] = the authors' input channel feeding hdr-keras input channel c.

    hdr-keras channel 6 f + r is frame f's Z (r < 3) or H (r >= 3), channel r % 3;
    the authors' order puts all Z first: Z_f channel j at 3 f + j, H_f at
    3 N + 3 f + j.
    """
    perm = []
    for frame in range(num_frames):
        perm += [3 * frame + j for j in range(3)]
        perm += [3 * num_frames + 3 * frame + j for j in range(3)]
    return np.array(perm)


def _tensors(path: str, layers) -> dict[str, np.ndarray]:
    """{"net.layers{i}.weights{j}": array} (MATLAB's 1-based names)."""
    return {
        f"net.layers{{{layer.index + 1}}}.weights{{{j + 1}}}": weight
        for layer in layers
        for j, weight in enumerate(layer.weights)
    }


def load(method: str, path: str, **build_kwargs):
    """`method` built with `build_kwargs`, filled from the MatConvNet file `path`."""
    if method == "kalantari_wie":
        raise AuthorsWeightsError(
            path,
            "kalantari_wie: the authors' released code is the WE system only; no "
            "published code gives the layout of the WIE network's 18 output "
            "channels (weights vs refined images), so it is not guessed here",
        )
    layers = read_matconvnet_layers(path)
    filler = WeightFiller(path, _tensors(path, layers), label="tensor")
    types = tuple(layer.type for layer in layers)
    if types[: len(LAYER_TYPES)] != LAYER_TYPES:
        raise filler.error(
            f"net.layers types {list(types)} are not the authors' network "
            f"{list(LAYER_TYPES)}"
        )
    for layer in layers:
        if layer.type == "conv" and (
            any(layer.pad) or any(s != 1 for s in layer.stride)
        ):
            raise filler.error(
                f"net.layers{{{layer.index + 1}}}: pad {list(layer.pad)} / stride "
                f"{list(layer.stride)}; the authors' network has pad 0, stride 1"
            )
    num_frames = build_kwargs.get("num_frames", NUM_FRAMES)
    if num_frames != NUM_FRAMES:
        raise filler.error(
            f"the authors' network takes 3 frames; got num_frames={num_frames}"
        )
    model = build_model(method, **build_kwargs)
    perm = input_permutation(NUM_FRAMES)
    convs = [layer for layer in layers if layer.type == "conv"]
    for k, (layer_name, conv) in enumerate(zip(CONV_LAYERS, convs)):
        layer = model.get_layer(layer_name)
        kernel = f"net.layers{{{conv.index + 1}}}.weights{{1}}"
        bias = f"net.layers{{{conv.index + 1}}}.weights{{2}}"
        # Same layout [kh, kw, in, out]: check the shape before permuting.
        permute = (lambda w: w[:, :, perm, :]) if k == 0 else None
        filler.assign(layer.kernel, kernel, permute, source_shape=layer.kernel.shape)
        filler.assign(layer.bias, bias, lambda b: np.reshape(b, (-1,)))
    filler.finish()
    return model
