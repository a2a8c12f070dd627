"""The run configuration of `training.main`: every flag, once, as a frozen dataclass.

`training.main.main()` builds one `RunConfig` from the command line; everything below
(`training.trainer`, `training.stages`, data, evaluation) reads this object, never
the flags. Programs and tests can build one directly:

    from training.run_config import RunConfig
    from training import trainer
    trainer.run(RunConfig(method="eilertsen", steps=10, export=False))
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

LOSS_VARIANTS = ("illuminance_reflectance", "masked_log_l2")
STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")
OPTIMIZERS = ("adam", "sgd")
MIXED_PRECISION = ("mixed_float16", "mixed_bfloat16")
JIT_COMPILE = ("off", "on", "auto")  # hdr_keras.export.xla.JIT_MODES

# The longer help texts of training.main's flags (the others are there, inline).
HELP = {
    "pretrain_data": "Pre-training TFRecords of LDR photos (tfrecords.make "
    "--source=ldr_folder) for methods with a pre-training stage (eilertsen): a run "
    "without --stage pre-trains on them, then trains on --data.",
    "real_pairs": "Folder of real LDR/HDR pairs scored after training (single-image "
    "methods; liu finds the shared data's marcelsan_sihdr_crops by itself).",
    "real_pairs_eilertsen": "A trained eilertsen .keras file or model_dir scored "
    "beside the model on the real pairs.",
    "stage": "Multi-stage methods: run only this stage, reading --data (default: "
    "all stages in order), e.g. eilertsen's pretrain or finetune.",
    "optimizer": "adam: the method's Adam (default). sgd: plain gradient descent at "
    "the same learning rate and schedule; its update is linear in the gradient, so "
    "runs on different numbers of replicas can be compared weight by weight.",
    "mixed_precision": "Compute in reduced precision (variables and outputs stay "
    "float32).",
    "export_jit_compile": "Whether the exported SavedModel runs the model through "
    "XLA (hdr_keras.export.xla): off (default: no extra time after training), on, "
    "or auto (plain and XLA timed on this machine at 256x384 and 1000x1500, the "
    "faster kept; minutes for large models). `python -m serving.export` "
    "re-exports final.keras with its own --jit_compile (default auto).",
}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One training run. `None` means "the method's default" (see each flag's help).

    Attributes mirror `training.main`'s flags one for one.
    """

    method: str
    data: Optional[str] = None
    pretrain_data: Optional[str] = None
    eval_data: Optional[str] = None
    model_dir: Optional[str] = None
    steps: Optional[int] = None
    steps_per_epoch: Optional[int] = None
    batch_size: Optional[int] = None
    patch_size: Optional[int] = None
    learning_rate: Optional[float] = None
    seed: int = 0
    vgg_weights: Optional[str] = None
    loss: Optional[str] = None
    export: bool = True
    strategy: str = "auto"
    cpu_replicas: int = 0
    checkpoint_every: Optional[int] = None
    init_from: Optional[str] = None
    freeze: tuple[str, ...] = ()
    real_pairs: Optional[str] = None
    real_pairs_eilertsen: Optional[str] = None
    stage: Optional[str] = None
    optimizer: str = "adam"
    mixed_precision: Optional[str] = None
    export_jit_compile: str = "off"

    def __post_init__(self):
        object.__setattr__(self, "freeze", tuple(self.freeze or ()))
        for name, allowed in (
            ("loss", LOSS_VARIANTS),
            ("strategy", STRATEGIES),
            ("optimizer", OPTIMIZERS),
            ("mixed_precision", MIXED_PRECISION),
            ("export_jit_compile", JIT_COMPILE),
        ):
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise ValueError(
                    f"--{name}={value!r}: expected one of {', '.join(allowed)}"
                )

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The flag names, in declaration order."""
        return tuple(field.name for field in dataclasses.fields(cls))

    def output_dir(self) -> Path:
        """--model_dir, or runs/<method>."""
        return Path(self.model_dir or Path("runs") / self.method)
