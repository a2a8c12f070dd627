"""Per-method training configurations (optimiser, schedule, loss, patch and batch).

`paper` holds the published hyper-parameters (METHODS.md), used with real data
(`--data`); `quick` is the short schedule used on the built-in synthetic data so a
fresh machine finishes a run in minutes on 2 CPU cores. Flags override either.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import keras

from hdr_keras.losses import HDRCNNLoss, MuLawLoss


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Steps and sizes of one training schedule."""

    steps: int
    steps_per_epoch: int
    batch_size: int
    patch_size: int


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
    """

    learning_rate: float
    loss: Callable[[], keras.losses.Loss]
    paper: Schedule
    quick: Schedule
    beta_1: float = 0.9
    decay_per_epoch: float = 1.0


# Wu et al. 2018 (both variants): L2 on mu-law (the network's tanh output is the
# tonemapped image), 256 x 256 patches, batch 16, Adam 2e-4 with beta1 0.5.
WU_2018 = TrainConfig(
    learning_rate=2e-4,
    beta_1=0.5,
    loss=lambda: MuLawLoss("l2", prediction="mu_law"),
    paper=Schedule(steps=200_000, steps_per_epoch=1000, batch_size=16, patch_size=256),
    quick=Schedule(steps=150, steps_per_epoch=30, batch_size=4, patch_size=128),
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
