"""Training configurations: the registered specs' schedules (`MethodSpec.training`).

Each method declares its optimiser, schedules (`quick` on the built-in data,
`paper` with --data), loss(es), stages and training-data kind in its package
(`hdr_keras.methods.<family>.spec`); this module only looks them up and passes
the run's --vgg_weights to the losses of methods that take VGG weights.
"""

from __future__ import annotations

import dataclasses

from hdr_keras.registry import SPECS, get_method
from hdr_keras.spec import Schedule, Stage, TrainConfig

__all__ = ["CONFIGS", "Schedule", "Stage", "TrainConfig", "get_config"]

# Registered trained methods -> their training configuration (tests patch it).
CONFIGS: dict[str, TrainConfig] = {
    spec.name: spec.training for spec in SPECS if spec.training is not None
}


def _with_vgg_weights(loss, vgg_weights: str | None):
    """`loss` with its `vgg_weights` keyword bound."""
    return lambda: loss(vgg_weights=vgg_weights)


def get_config(method: str, vgg_weights: str | None = None) -> TrainConfig:
    """The training configuration of `method` (ValueError listing known ones).

    For a method whose spec `takes_vgg_weights`, the losses are called with
    `vgg_weights` (training.main's --vgg_weights: a local VGG16 file, or None).
    """
    try:
        spec = get_method(method)
    except ValueError:
        spec = None
    config = CONFIGS.get(method) or (spec.training if spec is not None else None)
    if config is None:
        raise ValueError(
            f"no training configuration for method {method!r}; configured: "
            f"{', '.join(sorted(CONFIGS))}"
        )
    if spec is None or not spec.takes_vgg_weights:
        return config
    return dataclasses.replace(
        config,
        loss=_with_vgg_weights(config.loss, vgg_weights),
        stages=tuple(
            dataclasses.replace(stage, loss=_with_vgg_weights(stage.loss, vgg_weights))
            for stage in config.stages
        ),
    )
