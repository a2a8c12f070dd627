"""Per-method training configurations (optimiser, schedule, loss, patch and batch).

`paper` holds the published hyper-parameters (METHODS.md), used with real data
(`--data`); `quick` is the short schedule used on the built-in synthetic data so a
fresh machine finishes a run in minutes on 2 CPU cores. Flags override either.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import keras

from hdr_keras.losses import (
    HallucinationLoss,
    HDRCNNLoss,
    L2Loss,
    MuLawLoss,
    RefinementLoss,
    curve_l2_loss,
    liu_joint_losses,
)
from hdr_keras.models import kalantari, liu


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Steps and sizes of one training schedule."""

    steps: int
    steps_per_epoch: int
    batch_size: int
    patch_size: int


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of a multi-stage schedule (e.g. SingleHDR's per-network stages).

    Stages run in the order of `TrainConfig.stages`, each continuing from the
    weights the previous one left; `--stage=NAME` runs one of them alone (starting
    from the newest checkpoint of an earlier stage in the same --model_dir).

    Attributes:
        name: the `--stage` value.
        loss: callable() -> keras loss (or a dict of losses for a dict-output
            loss model) of this stage.
        loss_model: callable(model) -> the model whose output(s) the loss takes,
            sharing layers with `model`; None: the registry's `loss_model`.
        targets: callable(inputs, target) -> this stage's training target, mapped
            over the training batches; None: the dataset's target as it is.
        train: registry part names trained in this stage (the others frozen);
            empty: the whole model.
        steps: share of the run's steps (shares are normalised over the stages).
        learning_rate: initial learning rate of this stage; None: the config's.
    """

    name: str
    loss: Callable[[], keras.losses.Loss]
    loss_model: Callable[[keras.Model], keras.Model] | None = None
    targets: Callable | None = None
    train: tuple[str, ...] = ()
    steps: float = 1.0
    learning_rate: float | None = None


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How to train one method.

    Attributes:
        learning_rate: initial Adam learning rate.
        beta_1: Adam beta_1.
        decay_per_epoch: learning-rate factor applied after each epoch (1: none).
        loss: callable() -> keras loss applied to the registry's `loss_model` output.
        paper: schedule of the paper (real data).
        quick: short schedule on the built-in data.
        stages: a multi-stage schedule (`Stage`); empty: one stage with `loss`.
        training_data: "stacks" (whole stacks, random crops: `tfrecords.reader`)
            or "aligned_patches" (Kalantari's pre-aligned patches with their 48
            augmentations: `tfrecords.patches`; built-in: the aligned patch set).
    """

    learning_rate: float
    loss: Callable[[], keras.losses.Loss]
    paper: Schedule
    quick: Schedule
    beta_1: float = 0.9
    decay_per_epoch: float = 1.0
    stages: tuple[Stage, ...] = ()
    training_data: str = "stacks"

    def stage_steps(self, total: int) -> dict[str, int]:
        """Steps of each stage when a run of `total` steps goes through them all."""
        shares = sum(stage.steps for stage in self.stages)
        return {
            stage.name: max(1, round(total * stage.steps / shares))
            for stage in self.stages
        }


# Wu et al. 2018 (both variants): L2 on mu-law (the network's tanh output is the
# tonemapped image), 256 x 256 patches, batch 16, Adam 2e-4 with beta1 0.5.
WU_2018 = TrainConfig(
    learning_rate=2e-4,
    beta_1=0.5,
    loss=lambda: MuLawLoss("l2", prediction="mu_law"),
    paper=Schedule(steps=200_000, steps_per_epoch=1000, batch_size=16, patch_size=256),
    quick=Schedule(steps=150, steps_per_epoch=30, batch_size=4, patch_size=128),
)

# Kalantari & Ramamoorthi 2017: L2 on mu-law against the target cropped to the
# unpadded network's output, 40 x 40 patches of stacks aligned once with optical
# flow, batch 20, Adam 1e-4, ~2M iterations. WIE first learns to reproduce the
# aligned images ("refine"), then trains end to end ("joint").
KALANTARI_2017 = TrainConfig(
    learning_rate=1e-4,
    loss=lambda: kalantari.CroppedL2Loss("mu_law"),
    paper=Schedule(steps=2_000_000, steps_per_epoch=1000, batch_size=20, patch_size=40),
    quick=Schedule(steps=150, steps_per_epoch=75, batch_size=20, patch_size=40),
    training_data="aligned_patches",
)
KALANTARI_WIE_STAGES = (
    Stage(
        "refine",
        loss=lambda: kalantari.CroppedL2Loss("linear"),
        loss_model=kalantari.refined_images_model,
        targets=kalantari.refine_targets,
        steps=1.0,
    ),
    Stage("joint", loss=lambda: kalantari.CroppedL2Loss("mu_law"), steps=3.0),
)


def _vgg_weights_flag() -> str | None:
    """training.main's --vgg_weights (None when no command line was parsed)."""
    from absl import flags

    values = flags.FLAGS
    if "vgg_weights" in values and values.is_parsed():
        return values.vgg_weights
    return None


# Liu et al. 2020 (SingleHDR): each network trained alone on its own target with
# Adam 1e-4 (500k iterations, batch 8, 256 x 256 crops), then the whole pipeline
# fine-tuned with Adam 1e-5. Each stage trains one network through the pipeline
# truncated after it (earlier networks frozen); "joint" trains all four with the
# sum of the stage losses (`hdr_keras.losses.liu_joint_losses`). The batches are
# (ldr, {"hdr", "linear_clipped", "ldr_unquantized", "inverse_crf"}).
LIU_STAGES = (
    Stage(
        "deq",
        loss=lambda: L2Loss(name="dequantized_l2"),
        loss_model=liu.dequantization_view,
        targets=lambda inputs, target: target["ldr_unquantized"],
        train=("dequantization",),
        steps=5.0,
    ),
    Stage(
        "lin",
        loss=lambda: {
            "linear": L2Loss(name="linear_l2"),
            "inverse_crf": curve_l2_loss(),
        },
        loss_model=liu.linearization_view,
        targets=lambda inputs, target: {
            "linear": target["linear_clipped"],
            "inverse_crf": target["inverse_crf"],
        },
        train=("linearization",),
        steps=5.0,
    ),
    Stage(
        "hal",
        loss=lambda: HallucinationLoss(_vgg_weights_flag()),
        loss_model=liu.hallucination_view,
        targets=lambda inputs, target: target["hdr"],
        train=("hallucination",),
        steps=5.0,
    ),
    Stage(
        "ref",
        loss=lambda: RefinementLoss(),
        loss_model=liu.refinement_view,
        targets=lambda inputs, target: target["hdr"],
        train=("refinement",),
        steps=1.0,
    ),
    Stage(
        "joint",
        loss=lambda: liu_joint_losses(_vgg_weights_flag()),
        loss_model=liu.joint_view,
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
LIU_2020 = TrainConfig(
    learning_rate=1e-4,
    loss=lambda: RefinementLoss(),
    paper=Schedule(steps=1_700_000, steps_per_epoch=1000, batch_size=8, patch_size=256),
    quick=Schedule(steps=170, steps_per_epoch=25, batch_size=4, patch_size=64),
    stages=LIU_STAGES,
)

CONFIGS: dict[str, TrainConfig] = {
    # Eilertsen et al. 2017: Adam 5e-5 decayed x0.99 per epoch, batch 4, 320 x 320,
    # illuminance + reflectance loss (lambda 0.5), 100 epochs.
    "eilertsen": TrainConfig(
        learning_rate=5e-5,
        decay_per_epoch=0.99,
        loss=lambda: HDRCNNLoss("illuminance_reflectance"),
        paper=Schedule(
            steps=200_000, steps_per_epoch=1000, batch_size=4, patch_size=320
        ),
        quick=Schedule(steps=150, steps_per_epoch=30, batch_size=4, patch_size=128),
    ),
    # Yan et al. 2019 (AHDRNet): L1 on mu-law, random 256 x 256 crops, batch 8,
    # Adam 1e-4.
    "ahdrnet": TrainConfig(
        learning_rate=1e-4,
        loss=lambda: MuLawLoss("l1", prediction="linear"),
        paper=Schedule(
            steps=500_000, steps_per_epoch=1000, batch_size=8, patch_size=256
        ),
        quick=Schedule(steps=120, steps_per_epoch=30, batch_size=4, patch_size=64),
    ),
    "wu_resnet": WU_2018,
    "wu_unet": WU_2018,
    "kalantari_direct": KALANTARI_2017,
    "kalantari_we": KALANTARI_2017,
    "kalantari_wie": dataclasses.replace(KALANTARI_2017, stages=KALANTARI_WIE_STAGES),
    "liu": LIU_2020,
}


def get_config(method: str) -> TrainConfig:
    """The training configuration of `method` (ValueError listing known ones)."""
    try:
        return CONFIGS[method]
    except KeyError:
        raise ValueError(
            f"no training configuration for method {method!r}; configured: "
            f"{', '.join(sorted(CONFIGS))}"
        ) from None
