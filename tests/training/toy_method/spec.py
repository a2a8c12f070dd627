"""The toy methods' `MethodSpec`s: everything the apps need to know."""

from __future__ import annotations

from hdr_keras.losses import MuLawLoss
from hdr_keras.spec import SINGLE, STACK, MethodSpec, Schedule, TrainConfig
from toy_method.model import build_toy_single, build_toy_stack

PARTS = {"conv": ("conv",), "gain": ("gain",)}
TRAINING = TrainConfig(
    learning_rate=1e-3,
    loss=lambda: MuLawLoss("l1", prediction="linear"),
    paper=Schedule(steps=10, steps_per_epoch=5, batch_size=2, patch_size=32),
    quick=Schedule(steps=2, steps_per_epoch=1, batch_size=2, patch_size=32),
)
SINGLE_SPEC = MethodSpec(
    name="toy_single",
    builder=build_toy_single,
    input_kind=SINGLE,
    paper="test-only toy single-image method",
    parts=PARTS,
    training=TRAINING,
)
STACK_SPEC = MethodSpec(
    name="toy_stack",
    builder=build_toy_stack,
    input_kind=STACK,
    paper="test-only toy stack method",
    parts=PARTS,
    training=TRAINING,
)
