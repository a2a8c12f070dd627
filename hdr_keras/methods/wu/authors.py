"""Wu et al. (ECCV 2018): the authors' TF1 checkpoint -> `wu_resnet` model.

Published files: the `pretrained_ckp` checkpoint of elliottwu/DeepHDR (prefix
`model-N` with `.index`/`.data-*`), variables under `generator/` as created by the
authors' `model.py` (`generator`) and `ops.py` (`conv2d`: `w`, `biases`;
`conv2d_transpose`: `w` [k, k, out, in], `biases`; contrib `batch_norm`: `beta`,
`gamma`, `moving_mean`, `moving_variance`):

    encoder{i}/g_e1_conv, g_e2_conv, g_e2_bn -> encoder{i}_conv1, _conv2, _bn2
    merger/g_e3_conv, g_e3_bn                -> merger_conv, merger_bn
    merger/g_r{b}_c1, _bn1, _c2, _bn2        -> res_block{b}.conv1, bn1, conv2, bn2
    decoder/g_d{k}, g_d{k}_bn                -> decoder{k}_deconv, decoder{k}_bn
    decoder/g_d_out_conv                     -> out_conv

TF kernels are already in Keras' layouts (Conv2D [k, k, in, out], Conv2DTranspose
[k, k, out, in]). The training state the authors' `Saver` also wrote is not part of
the network and is ignored: Adam slots of mapped variables (`<var>/Adam`,
`<var>/Adam_1`), `beta1_power`, `beta2_power` and `global_step`.
"""

from __future__ import annotations

from hdr_keras.authors.common import (
    WeightFiller,
    assign_batch_norm,
    assign_conv,
    get_layer,
    optimizer_state,
)
from hdr_keras.io.tf1_checkpoint import read_tf1_checkpoint
from hdr_keras.registry import build_model

NUM_FRAMES = 3  # the authors' generator has encoder1..3
SCOPE = "generator"
BN_FIELDS = ("beta", "gamma", "moving_mean", "moving_variance")


def _bn(filler: WeightFiller, layer, scope: str) -> None:
    assign_batch_norm(filler, layer, {f: f"{scope}/{f}" for f in BN_FIELDS})


def _conv(filler: WeightFiller, layer, scope: str) -> None:
    assign_conv(filler, layer, f"{scope}/w", f"{scope}/biases")


def load(method: str, path: str, **build_kwargs):
    """`wu_resnet` built with `build_kwargs`, filled from the checkpoint `path`."""
    del method
    filler = WeightFiller(path, read_tf1_checkpoint(path), label="variable")
    num_frames = build_kwargs.get("num_frames", NUM_FRAMES)
    if num_frames != NUM_FRAMES:
        raise filler.error(
            f"the authors' generator has 3 encoders; got num_frames={num_frames}"
        )
    model = build_model("wu_resnet", **build_kwargs)
    g = SCOPE
    for i in range(1, NUM_FRAMES + 1):
        _conv(
            filler,
            model.get_layer(f"encoder{i}_conv1").conv,
            f"{g}/encoder{i}/g_e1_conv",
        )
        _conv(
            filler,
            model.get_layer(f"encoder{i}_conv2").conv,
            f"{g}/encoder{i}/g_e2_conv",
        )
        _bn(filler, model.get_layer(f"encoder{i}_bn2"), f"{g}/encoder{i}/g_e2_bn")
    _conv(filler, model.get_layer("merger_conv").conv, f"{g}/merger/g_e3_conv")
    _bn(filler, model.get_layer("merger_bn"), f"{g}/merger/g_e3_bn")
    block = 1
    while True:
        try:
            res = get_layer(model, f"res_block{block}")
        except ValueError:
            break
        scope = f"{g}/merger/g_r{block}"
        _conv(filler, res.conv1.conv, f"{scope}_c1")
        _bn(filler, res.bn1, f"{scope}_bn1")
        _conv(filler, res.conv2.conv, f"{scope}_c2")
        _bn(filler, res.bn2, f"{scope}_bn2")
        block += 1
    for k in (1, 2, 3):
        _conv(filler, model.get_layer(f"decoder{k}_deconv"), f"{g}/decoder/g_d{k}")
        _bn(filler, model.get_layer(f"decoder{k}_bn"), f"{g}/decoder/g_d{k}_bn")
    _conv(filler, model.get_layer("out_conv").conv, f"{g}/decoder/g_d_out_conv")
    filler.finish(optimizer_state(filler))
    return model
