"""HDRCNN (Eilertsen et al. 2017): the authors' TensorLayer npz -> `eilertsen` model.

Published files: `hdrcnn_params.npz` (and `hdrcnn_params_compr.npz`, trained for
JPEG input) linked from gabrieleilertsen/hdrcnn's README; the training code
(`training_code/hdrcnn_train.py`) starts from `vgg16_places365_weights.npy`, which
`build_model("eilertsen", vgg_weights=...)` / `--vgg_weights` read too
(`hdr_keras.models.vgg16_file`).

The npz is TensorLayer's `save_npz`: one key `params`, the 80 arrays of the
network's `all_params` in creation order, without names (`PARAMS` below lists them
as `network.py` creates them; TensorLayer's BatchNormLayer creates beta, gamma,
moving_mean, moving_variance). TensorFlow kernels are already in Keras' layouts.

    encoder/h{b}/conv_{c}           -> block{b}_conv{c} (VGG16)
    encoder/h6/conv, batch_norm     -> latent_conv, latent_bn
    decoder/h{k}/decon2d, _dc BN    -> decoder{k}_deconv, decoder{k}_bn   (k 1..5)
    decoder/h{k}/fuse_skip_connection -> skip{k-1}_fuse                   (k 2..6)
    decoder/h7/conv2d, batch_norm   -> output_conv, output_bn
    decoder/h7/fuse_skip_connection -> skip_input_fuse
"""

from __future__ import annotations

from hdr_keras.authors.common import WeightFiller
from hdr_keras.io.tensorlayer import read_tensorlayer_npz
from hdr_keras.registry import build_model

VGG16_BLOCKS = (2, 2, 3, 3, 3)  # convolutions per VGG16 block
BN_FIELDS = ("beta", "gamma", "moving_mean", "moving_variance")


def _conv(scope: str, layer: str, kind: str = "conv2d"):
    return [
        (f"{scope}/W_{kind}", layer, "kernel"),
        (f"{scope}/b_{kind}", layer, "bias"),
    ]


def _bn(scope: str, layer: str):
    return [(f"{scope}/{field}", layer, field) for field in BN_FIELDS]


def params_order() -> list[tuple[str, str, str]]:
    """(authors' name, model layer, variable attribute) in `all_params` order."""
    order = []
    for block, convs in enumerate(VGG16_BLOCKS, start=1):
        for conv in range(1, convs + 1):
            order += _conv(f"encoder/h{block}/conv_{conv}", f"block{block}_conv{conv}")
    order += _conv("encoder/h6/conv", "latent_conv")
    order += _bn("encoder/h6/batch_norm", "latent_bn")
    for k in range(1, 6):
        if k > 1:
            order += _conv(f"decoder/h{k}/fuse_skip_connection", f"skip{k - 1}_fuse")
        order += _conv(f"decoder/h{k}/decon2d", f"decoder{k}_deconv", "deconv2d")
        order += _bn(f"decoder/h{k}/decon2d/batch_norm_dc", f"decoder{k}_bn")
    order += _conv("decoder/h6/fuse_skip_connection", "skip5_fuse")
    order += _conv("decoder/h7/conv2d", "output_conv")
    order += _bn("decoder/h7/batch_norm", "output_bn")
    order += _conv("decoder/h7/fuse_skip_connection", "skip_input_fuse")
    return order


PARAMS = params_order()  # 80 entries


def load(method: str, path: str, **build_kwargs):
    """`eilertsen` built with `build_kwargs`, filled from the npz at `path`."""
    del method
    params = read_tensorlayer_npz(path)
    tensors = {}
    for i, array in enumerate(params):
        name = PARAMS[i][0] if i < len(PARAMS) else "(none)"
        tensors[f"params[{i}] ({name})"] = array
    filler = WeightFiller(path, tensors, label="array")
    model = build_model("eilertsen", **build_kwargs)
    for i, (name, layer, attribute) in enumerate(PARAMS):
        variable = getattr(model.get_layer(layer), attribute)
        filler.assign(variable, f"params[{i}] ({name})")
    filler.finish()
    return model
