"""AHDRNet (Yan et al. 2019): the authors' PyTorch state_dict -> `ahdrnet` model.

Published file: `trained-model/ahdr_model.pt` of qingsenyangit/AHDRNet, a
`state_dict` saved by PyTorch 0.3 (legacy serialisation); the zip serialisation
of PyTorch >= 1.6 is read too. Keys are those of the authors' `model.py` (`AHDR`):

    conv1 (shared per frame)          -> conv1
    att11, att12 (frame 1 vs frame 2) -> attention0.hidden_conv, .logits_conv
    att31, att32 (frame 3 vs frame 2) -> attention2.hidden_conv, .logits_conv
    conv2                             -> merge_conv
    RDB{b}.dense_layers.{i}.conv      -> drdb{b}.dense_conv{i+1}
    RDB{b}.conv_1x1                   -> drdb{b}.fusion_conv
    GFF_1x1, GFF_3x3, conv_up, conv3  -> fusion_1x1, fusion_3x3, conv_up, conv_out

`attConv1` and `attConv3` are defined in `model.py` but never used in `forward`:
ignored. PyTorch kernels [out, in, kh, kw] become Keras [kh, kw, in, out].

`transpose` (default True): the authors' training and test data went through
MATLAB -> HDF5 -> h5py, which reverses the axes (MATLAB writes H x W x C, h5py reads
C x W x H), and `running_func.py` treats the second axis as height: the network saw
every image transposed. The released weights therefore compute, on an ordinary
image X, transpose(net(transpose(X))); swapping each kernel's two spatial axes
gives exactly that (every layer is a convolution or a per-pixel operation).
`transpose=False` loads the raw network (what the authors' `model.py` computes on
the tensor it is given).
"""

from __future__ import annotations

import numpy as np

from hdr_keras.authors.common import WeightFiller, assign_conv, get_layer
from hdr_keras.io.torch_pickle import read_torch_state_dict
from hdr_keras.registry import build_model

NUM_FRAMES = 3  # the authors' AHDR takes exactly x1, x2, x3 with x2 the reference
IGNORED_PREFIXES = ("attConv1.", "attConv3.")  # defined, never used in forward
TOP_CONVS = {
    "conv1": "conv1",
    "merge_conv": "conv2",
    "fusion_1x1": "GFF_1x1",
    "fusion_3x3": "GFF_3x3",
    "conv_up": "conv_up",
    "conv_out": "conv3",
}
ATTENTION = {0: ("att11", "att12"), 2: ("att31", "att32")}  # frame -> modules


def kernel_transform(transpose: bool):
    """PyTorch [out, in, kh, kw] -> Keras [kh, kw, in, out] (spatially swapped
    when `transpose`)."""
    axes = (3, 2, 1, 0) if transpose else (2, 3, 1, 0)
    return lambda w: np.transpose(w, axes)


def _conv(filler: WeightFiller, layer, key: str, transform) -> None:
    assign_conv(filler, layer, f"{key}.weight", f"{key}.bias", transform)


def load(method: str, path: str, transpose: bool = True, **build_kwargs):
    """`ahdrnet` built with `build_kwargs`, filled from the state_dict at `path`."""
    del method
    state = read_torch_state_dict(path)
    filler = WeightFiller(path, state, label="tensor")
    num_frames = build_kwargs.get("num_frames", NUM_FRAMES)
    reference = build_kwargs.get("reference")
    if num_frames != NUM_FRAMES or reference not in (None, 1):
        raise filler.error(
            "the authors' AHDRNet merges 3 frames with the middle one as reference; "
            f"got num_frames={num_frames}, reference={reference}"
        )
    model = build_model("ahdrnet", **build_kwargs)
    transform = kernel_transform(transpose)
    for layer_name, key in TOP_CONVS.items():
        _conv(filler, model.get_layer(layer_name), key, transform)
    for frame, (hidden, logits) in ATTENTION.items():
        attention = model.get_layer(f"attention{frame}")
        _conv(filler, attention.hidden_conv, hidden, transform)
        _conv(filler, attention.logits_conv, logits, transform)
    block = 1
    while True:
        try:
            drdb = get_layer(model, f"drdb{block}")
        except ValueError:
            break
        for i, conv in enumerate(drdb.dense_convs):
            _conv(filler, conv, f"RDB{block}.dense_layers.{i}.conv", transform)
        _conv(filler, drdb.fusion_conv, f"RDB{block}.conv_1x1", transform)
        block += 1
    filler.finish(lambda name: name.startswith(IGNORED_PREFIXES))
    return model
