"""SingleHDR (Liu et al. 2020): the authors' TF1 checkpoint -> `liu` model.

Published files: the pre-trained checkpoints linked from alex04072000/SingleHDR's
README (a Google Drive zip); the joint one, `ckpt_deq_lin_hal_ref/model.ckpt`
(`test_real_refinement.py --ckpt_path`), holds all four networks: 249 variables in
the scopes `Dequantization_Net`, `crf_feature_net` + `ae_invcrf_decode_net`
(Linearization-Net), `Hallucination_Net` and `Refinement_Net`.

    Dequantization_Net/conv2d[_k]  -> dequantization: deq_in1, deq_in2,
        deq_down{1..4}{a,b}, deq_up{1..4}{a,b}, deq_out (k = 0..18, tf.layers'
        creation order; "conv2d" is k = 0)
    Refinement_Net/conv2d[_k]      -> refinement: the same with prefix ref_
    crf_feature_net/conv1, bn_conv1/BatchNorm, res{s}{b}_branch{x},
        bn{s}{b}_branch{x}/BatchNorm (ResNet-50, slim) -> linearization: the
        layers of the same names
    ae_invcrf_decode_net/dense     -> linearization: pca_weights
    Hallucination_Net/encoder/h{b}/conv_{c} -> hallucination: block{b}_conv{c},
        encoder/h6/conv + batch_norm -> latent_conv, latent_bn,
        decoder/h{k}/decon2d (a 3x3 conv here) + batch_norm_dc -> decoder{k}_conv,
        decoder{k}_bn, decoder/h{k}/fuse_skip_connection -> skip{k-1}_fuse,
        decoder/h7/conv2d, batch_norm, fuse_skip_connection -> output_conv,
        output_bn, skip_input_fuse

The checkpoint does not hold the camera-curve basis: the authors' graph reads EMoR's
`invemor.txt` (mean curve g0 and the first 11 components) from disk. So the model
must be built with that file: `emor_dir=DIR` (a folder with emor.txt and
invemor.txt, e.g. from the DoRF/EMoR distribution) or $HDR_KERAS_EMOR_DIR. The
built-in basis (a PCA of generated curves) differs from EMoR, so the authors'
11 PCA weights would describe a different curve: it is refused. Training state
written by the authors' `Saver` (Adam slots, beta powers, global_step) is ignored.
"""

from __future__ import annotations

import os

from hdr_keras.authors.common import (
    AuthorsWeightsError,
    WeightFiller,
    assign_batch_norm,
    assign_conv,
    get_layer,
    optimizer_state,
)
from hdr_keras.io.tf1_checkpoint import read_tf1_checkpoint
from hdr_keras.registry import build_model

EMOR_ENV = "HDR_KERAS_EMOR_DIR"
UNET_CONVS = (
    ["in1", "in2"]
    + [f"down{level}{part}" for level in range(1, 5) for part in "ab"]
    + [f"up{level}{part}" for level in range(1, 5) for part in "ab"]
    + ["out"]
)
RESNET_BLOCKS = (("res2", 3), ("res3", 2))
VGG16_BLOCKS = (2, 2, 3, 3, 3)
TL_BN = ("beta", "gamma", "moving_mean", "moving_variance")


def _tl_bn(filler: WeightFiller, layer, scope: str) -> None:
    assign_batch_norm(filler, layer, {f: f"{scope}/{f}" for f in TL_BN})


def _unet(filler: WeightFiller, model, submodel: str, scope: str, prefix: str):
    net = get_layer(model, submodel)
    for k, name in enumerate(UNET_CONVS):
        tf_name = f"{scope}/conv2d" + (f"_{k}" if k else "")
        layer = net.get_layer(f"{prefix}_{name}_conv")
        assign_conv(filler, layer, f"{tf_name}/kernel", f"{tf_name}/bias")


def _linearization(filler: WeightFiller, model) -> None:
    net = get_layer(model, "linearization")
    scope = "crf_feature_net"
    assign_conv(filler, net.get_layer("conv1"), f"{scope}/conv1/weights", None)
    filler.assign(net.get_layer("conv1").bias, f"{scope}/conv1/biases")
    _tl_bn(filler, net.get_layer("bn_conv1"), f"{scope}/bn_conv1/BatchNorm")
    for stage, blocks in RESNET_BLOCKS:
        for block in "abcdef"[:blocks]:
            branches = ("1", "2a", "2b", "2c") if block == "a" else ("2a", "2b", "2c")
            for branch in branches:
                conv = f"{stage}{block}_branch{branch}"
                bn = f"bn{stage[3:]}{block}_branch{branch}"
                filler.assign(net.get_layer(conv).kernel, f"{scope}/{conv}/weights")
                _tl_bn(filler, net.get_layer(bn), f"{scope}/{bn}/BatchNorm")
    dense = net.get_layer("pca_weights")
    assign_conv(
        filler,
        dense,
        "ae_invcrf_decode_net/dense/kernel",
        "ae_invcrf_decode_net/dense/bias",
    )


def _conv_tl(filler: WeightFiller, layer, scope: str) -> None:
    assign_conv(filler, layer, f"{scope}/W_conv2d", f"{scope}/b_conv2d")


def _hallucination(filler: WeightFiller, model) -> None:
    net = get_layer(model, "hallucination")
    enc, dec = "Hallucination_Net/encoder", "Hallucination_Net/decoder"
    for block, convs in enumerate(VGG16_BLOCKS, start=1):
        for conv in range(1, convs + 1):
            layer = net.get_layer(f"block{block}_conv{conv}")
            _conv_tl(filler, layer, f"{enc}/h{block}/conv_{conv}")
    _conv_tl(filler, net.get_layer("latent_conv"), f"{enc}/h6/conv")
    _tl_bn(filler, net.get_layer("latent_bn"), f"{enc}/h6/batch_norm")
    for k in range(1, 6):
        if k > 1:
            fuse = net.get_layer(f"skip{k - 1}_fuse")
            _conv_tl(filler, fuse, f"{dec}/h{k}/fuse_skip_connection")
        _conv_tl(filler, net.get_layer(f"decoder{k}_conv").conv, f"{dec}/h{k}/decon2d")
        bn = net.get_layer(f"decoder{k}_bn")
        _tl_bn(filler, bn, f"{dec}/h{k}/decon2d/batch_norm_dc")
    _conv_tl(filler, net.get_layer("skip5_fuse"), f"{dec}/h6/fuse_skip_connection")
    _conv_tl(filler, net.get_layer("output_conv"), f"{dec}/h7/conv2d")
    _tl_bn(filler, net.get_layer("output_bn"), f"{dec}/h7/batch_norm")
    fuse = net.get_layer("skip_input_fuse")
    _conv_tl(filler, fuse, f"{dec}/h7/fuse_skip_connection")


def load(method: str, path: str, **build_kwargs):
    """`liu` built with `build_kwargs` (incl. `emor_dir`), filled from `path`."""
    del method
    if not build_kwargs.get("emor_dir") and not os.environ.get(EMOR_ENV):
        raise AuthorsWeightsError(
            path,
            "SingleHDR's Linearization-Net predicts 11 weights of EMoR's inverse-"
            "curve basis (invemor.txt), which the checkpoint does not contain; "
            "the built-in basis is a different PCA, so these weights would give "
            "wrong curves. Pass emor_dir=DIR (a folder with emor.txt and "
            f"invemor.txt) or set ${EMOR_ENV}",
        )
    tensors = read_tf1_checkpoint(path)
    filler = WeightFiller(path, tensors, label="variable")
    model = build_model("liu", **build_kwargs)
    _unet(filler, model, "dequantization", "Dequantization_Net", "deq")
    _linearization(filler, model)
    _hallucination(filler, model)
    _unet(filler, model, "refinement", "Refinement_Net", "ref")
    filler.finish(optimizer_state(filler))
    return model
