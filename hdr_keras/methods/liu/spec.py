"""SingleHDR's `MethodSpec`: parts for freezing and its staged schedules."""

from __future__ import annotations

from hdr_keras.methods.liu.losses import (
    HallucinationLoss,
    L2Loss,
    RefinementLoss,
    curve_l2_loss,
    liu_joint_losses,
)
from hdr_keras.methods.liu.model import (
    STRIDE,
    SUBMODELS,
    build_liu,
    dequantization_view,
    hallucination_view,
    joint_view,
    linearization_view,
    refinement_view,
)
from hdr_keras.spec import (
    CAMERA_SHOTS,
    REAL_PAIRS,
    SINGLE,
    MethodSpec,
    Schedule,
    Stage,
    TrainConfig,
)

# Its four networks are nested models named after the parts.
PARTS = {name: (name,) for name in SUBMODELS}

# Liu et al. 2020 (SingleHDR): each network trained alone on its own target with
# Adam 1e-4 (500k iterations, batch 8, 256 x 256 crops), then the whole pipeline
# fine-tuned with Adam 1e-5. Each stage trains one network through the pipeline
# truncated after it (earlier networks frozen); "joint" trains all four with the
# sum of the stage losses (`liu_joint_losses`). The batches are
# (ldr, {"hdr", "linear_clipped", "ldr_unquantized", "inverse_crf"}): "camera"
# records. Losses take `vgg_weights` (the perceptual term's VGG16 file).
STAGES = (
    Stage(
        "deq",
        loss=lambda vgg_weights=None: L2Loss(name="dequantized_l2"),
        loss_model=dequantization_view,
        targets=lambda inputs, target: target["ldr_unquantized"],
        train=("dequantization",),
        steps=5.0,
    ),
    Stage(
        "lin",
        loss=lambda vgg_weights=None: {
            "linear": L2Loss(name="linear_l2"),
            "inverse_crf": curve_l2_loss(),
        },
        loss_model=linearization_view,
        targets=lambda inputs, target: {
            "linear": target["linear_clipped"],
            "inverse_crf": target["inverse_crf"],
        },
        train=("linearization",),
        steps=5.0,
    ),
    Stage(
        "hal",
        loss=lambda vgg_weights=None: HallucinationLoss(vgg_weights),
        loss_model=hallucination_view,
        targets=lambda inputs, target: target["hdr"],
        train=("hallucination",),
        steps=5.0,
    ),
    Stage(
        "ref",
        loss=lambda vgg_weights=None: RefinementLoss(),
        loss_model=refinement_view,
        targets=lambda inputs, target: target["hdr"],
        train=("refinement",),
        steps=1.0,
    ),
    Stage(
        "joint",
        loss=lambda vgg_weights=None: liu_joint_losses(vgg_weights),
        loss_model=joint_view,
        targets=lambda inputs, target: {
            "dequantized": target["ldr_unquantized"],
            "linear": target["linear_clipped"],
            "inverse_crf": target["inverse_crf"],
            "hallucinated": target["hdr"],
            "hdr": target["hdr"],
        },
        steps=1.0,
        learning_rate=1e-5,
    ),
)
TRAINING = TrainConfig(
    learning_rate=1e-4,
    loss=lambda vgg_weights=None: RefinementLoss(),
    paper=Schedule(steps=1_700_000, steps_per_epoch=1000, batch_size=8, patch_size=256),
    quick=Schedule(steps=170, steps_per_epoch=25, batch_size=4, patch_size=64),
    stages=STAGES,
    training_data=CAMERA_SHOTS,
)

SPEC = MethodSpec(
    name="liu",
    builder=build_liu,
    input_kind=SINGLE,
    paper="Liu et al. 2020, Single-image HDR reconstruction by learning to "
    "reverse the camera pipeline (SingleHDR)",
    stride=STRIDE,
    parts=PARTS,
    training=TRAINING,
    takes_vgg_weights=True,
    eval_extras=(REAL_PAIRS,),
    authors_weights="hdr_keras.methods.liu.authors",
)
