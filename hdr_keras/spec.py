"""What a method declares: `MethodSpec` and its training schedules.

Every method package (`hdr_keras.methods.<family>`) defines its `MethodSpec`(s)
with these classes; `hdr_keras.registry` lists them. The apps (`training/`,
`tfrecords/`, `serving/`) dispatch on these fields only, never on a method's name,
so adding a method touches its package, one registry line and its docs page
(`docs/adding-a-method.md`).
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Callable, Mapping

import keras

# Input kinds (serving signature and data pipeline).
SINGLE = "single"  # input `ldr` [B, H, W, 3]
STACK = "stack"  # inputs `ldr` [B, N, H, W, 3] and `exposure` [B, N]
# Output kinds.
LINEAR = "linear"  # output `hdr` is linear radiance
DISPLAY = "display"  # output `hdr` is a display-referred image in [0, 1] (Mertens)

# Training-data kinds (`TrainConfig.training_data`; `training.data` reads them).
HDR_IMAGES = "hdr"  # "hdr" records, LDR simulated by the virtual camera (single)
STACKS = "stacks"  # whole "stack" records, random crops (stack)
ALIGNED_PATCHES = "aligned_patches"  # stacks flow-aligned once, cut into patches
CAMERA_SHOTS = "camera"  # "camera" records: shots with every intermediate (single)
TRAINING_DATA = (HDR_IMAGES, STACKS, ALIGNED_PATCHES, CAMERA_SHOTS)

# Stage data (`Stage.data`): which training data a stage of a schedule reads.
RUN_DATA = "data"  # the run's --data (or the built-in set of `training_data`)
# "hdr" records made from plain LDR photos (`tfrecords.make --source=ldr_folder`):
# --pretrain_data, or --data when `--stage` names this stage alone, else the
# built-in LDR renderings on the quick schedule (`Stage.builtin_data`).
PRETRAIN_DATA = "pretrain_data"
STAGE_DATA = (RUN_DATA, PRETRAIN_DATA)

# Evaluation extras (`MethodSpec.eval_extras`).
REAL_PAIRS = "real_pairs"  # scored on the real LDR/HDR pairs after training


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Steps and sizes of one training schedule."""

    steps: int
    steps_per_epoch: int
    batch_size: int
    patch_size: int


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of a multi-stage schedule (e.g. SingleHDR's per-network stages,
    HDRCNN's pre-training on LDR photos then fine-tuning on HDR images).

    Stages run in the order of `TrainConfig.stages`, each continuing from the
    weights the previous one left; `--stage=NAME` runs one of them alone (starting
    from the newest checkpoint of an earlier stage in the same --model_dir).

    Attributes:
        name: the `--stage` value.
        loss: callable() -> keras loss (or a dict of losses for a dict-output
            loss model) of this stage. For a method whose spec has
            `takes_vgg_weights`, it takes a keyword `vgg_weights` (the local VGG16
            file or None), which the training app passes.
        loss_model: callable(model) -> the model whose output(s) the loss takes,
            sharing layers with `model`; None: the spec's `loss_model`.
        targets: callable(inputs, target) -> this stage's training target, mapped
            over the training batches; None: the dataset's target as it is.
        train: spec part names trained in this stage (the others frozen);
            empty: the whole model.
        steps: share of the run's steps (shares are normalised over the stages
            that run).
        learning_rate: initial learning rate of this stage; None: the config's.
        data: RUN_DATA (the run's --data) or PRETRAIN_DATA (records of LDR
            photos: --pretrain_data; a full run without them skips the stage
            unless `builtin_data` applies).
        builtin_data: PRETRAIN_DATA stages: on the quick schedule (no --data)
            without --pretrain_data, train on the built-in LDR renderings
            (`tfrecords.builtin.builtin_ldr_rendering_data`); False: skip the
            stage there.
        batch_size, patch_size: this stage's batch and patch size on the paper
            schedule (real data); None: the schedule's. The quick schedule keeps
            its own sizes for every stage; --batch_size / --patch_size override.
        camera: the virtual camera (`hdr_keras.ops.camera.VirtualCameraConfig`)
            simulating this stage's LDR inputs from "hdr" records; None: the
            default camera.
        crop_fraction: (low, high) side of the random crop as a fraction of the
            image's shorter side ("hdr" records); None: the reader's default.
    """

    name: str
    loss: Callable[..., Any]
    loss_model: Callable[[keras.Model], keras.Model] | None = None
    targets: Callable | None = None
    train: tuple[str, ...] = ()
    steps: float = 1.0
    learning_rate: float | None = None
    data: str = RUN_DATA
    builtin_data: bool = True
    batch_size: int | None = None
    patch_size: int | None = None
    camera: Any = None
    crop_fraction: tuple[float, float] | None = None

    def __post_init__(self):
        if self.data not in STAGE_DATA:
            raise ValueError(
                f"stage {self.name!r}: data must be one of {STAGE_DATA}, got "
                f"{self.data!r}"
            )
        if self.crop_fraction is not None:
            low, high = self.crop_fraction
            if not 0.0 < low <= high <= 1.0:
                raise ValueError(
                    f"stage {self.name!r}: crop_fraction must be 0 < low <= high "
                    f"<= 1, got {self.crop_fraction}"
                )


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How to train one method (its default schedules: `quick` and `paper`).

    `paper` holds the published hyper-parameters (METHODS.md), used with real data
    (`--data`); `quick` is the short schedule used on the built-in synthetic data
    so a fresh machine finishes a run in minutes on 2 CPU cores. Flags override
    either.

    Attributes:
        learning_rate: initial Adam learning rate.
        beta_1: Adam beta_1.
        decay_per_epoch: learning-rate factor applied after each epoch (1: none).
        loss: callable() -> keras loss applied to the spec's `loss_model` output
            (keyword `vgg_weights` as `Stage.loss` for methods taking VGG weights).
        paper: schedule of the paper (real data).
        quick: short schedule on the built-in data.
        stages: a multi-stage schedule (`Stage`); empty: one stage with `loss`.
        training_data: HDR_IMAGES, STACKS, ALIGNED_PATCHES or CAMERA_SHOTS; None:
            by the input kind (HDR_IMAGES for SINGLE, STACKS for STACK).
        loss_variants: values of training.main's `--loss`: each is passed as the
            first argument of the class of `loss()` (HDRCNN's two losses); empty:
            `--loss` does not apply.
    """

    learning_rate: float
    loss: Callable[..., Any]
    paper: Schedule
    quick: Schedule
    beta_1: float = 0.9
    decay_per_epoch: float = 1.0
    stages: tuple[Stage, ...] = ()
    training_data: str | None = None
    loss_variants: tuple[str, ...] = ()

    def __post_init__(self):
        if self.training_data is not None and self.training_data not in TRAINING_DATA:
            raise ValueError(
                f"training_data must be one of {TRAINING_DATA}, got "
                f"{self.training_data!r}"
            )

    def stage_steps(self, total: int) -> dict[str, int]:
        """Steps of each stage when a run of `total` steps goes through them all."""
        shares = sum(stage.steps for stage in self.stages)
        return {
            stage.name: max(1, round(total * stage.steps / shares))
            for stage in self.stages
        }


def _identity(model: keras.Model) -> keras.Model:
    return model


@dataclasses.dataclass(frozen=True)
class MethodSpec:
    """What the package knows about one method.

    Attributes:
        name: registry name, e.g. "eilertsen".
        builder: callable(**kwargs) -> keras.Model mapping the inputs to linear HDR.
        input_kind: SINGLE or STACK (serving signature and data pipeline).
        paper: short reference.
        stride: spatial multiple the network pads to internally.
        loss_model: callable(model) -> model whose output the training loss takes
            (identity when the loss applies to the HDR output itself).
        parts: named parts of the network for fine-tuning (`hdr_keras.freeze`):
            part name -> fnmatch patterns over the top-level layer names of the
            built model. Parts may overlap; together they cover every layer that
            has weights. Stored read-only. Empty for training-free methods.
        training_free: the method has no trained weights (classic methods): it is
            used through `--method` directly and `training.main` refuses it.
        output_kind: LINEAR (radiance) or DISPLAY (a display image in [0, 1]).
        whole_image: the method needs the whole image at once (a global
            calibration or pyramid), so `serving.predict` does not tile it.
        training: the default schedules, loss(es) and training-data kind
            (`TrainConfig`); None for training-free methods.
        takes_vgg_weights: the builder takes `vgg_weights` (a local VGG16 file:
            training.main's `--vgg_weights`), and so do its losses.
        eval_extras: extra evaluations after training, e.g. REAL_PAIRS (scored on
            the real LDR/HDR pairs when the shared data has them).
        authors_weights: the module that reads the authors' published checkpoint
            into this method (`load(method, path, **build_kwargs)`, imported on
            first use by `hdr_keras.load_authors_weights`); None: no such format.
    """

    name: str
    builder: Callable[..., keras.Model]
    input_kind: str
    paper: str
    stride: int = 1
    loss_model: Callable[[keras.Model], keras.Model] = _identity
    parts: Mapping[str, tuple[str, ...]] = dataclasses.field(
        default_factory=dict, hash=False
    )
    training_free: bool = False
    output_kind: str = LINEAR
    whole_image: bool = False
    training: TrainConfig | None = None
    takes_vgg_weights: bool = False
    eval_extras: tuple[str, ...] = ()
    authors_weights: str | None = None

    def __post_init__(self):
        parts = {name: tuple(patterns) for name, patterns in self.parts.items()}
        object.__setattr__(self, "parts", types.MappingProxyType(parts))

    @property
    def training_data(self) -> str:
        """The training-data kind: the schedule's, else by the input kind."""
        if self.training is not None and self.training.training_data is not None:
            return self.training.training_data
        return HDR_IMAGES if self.input_kind == SINGLE else STACKS
