"""What every authors'-checkpoint mapping shares: the error and the weight filler.

`WeightFiller` hands out the checkpoint's tensors by name, assigns them to Keras
variables with a shape check, remembers which were used, and at the end reports
every tensor left over (other than the ones a method declares ignorable). Each
error is an `AuthorsWeightsError` naming the file and the tensor.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable, Mapping

import keras
import numpy as np

from hdr_keras.io.weight_files import PathLike


class AuthorsWeightsError(ValueError):
    """An authors' checkpoint does not fit the model; the message names the file
    and the tensor (wrong format, missing or unused tensor, wrong shape).

    Args:
        path: the checkpoint file (or TF1 checkpoint prefix).
        reason: what is wrong, naming the tensor.
    """

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason))


def get_layer(model: keras.Model, *names: str) -> keras.layers.Layer:
    """The layer at `names` (nested models: outer name first), by name."""
    layer = model
    for name in names:
        layer = layer.get_layer(name)
    return layer


class WeightFiller:
    """Assigns named checkpoint tensors to model variables, checking shapes.

    Args:
        path: the checkpoint (for error messages).
        tensors: {name: array} as read from the file.
        label: how a tensor is called in messages, e.g. "variable" or "tensor".
    """

    def __init__(
        self, path: PathLike, tensors: Mapping[str, np.ndarray], label: str = "tensor"
    ):
        self.path = path
        self.tensors = dict(tensors)
        self.label = label
        self.used: set[str] = set()

    def error(self, reason: str) -> AuthorsWeightsError:
        return AuthorsWeightsError(self.path, reason)

    def take(self, name: str) -> np.ndarray:
        """The tensor `name` (marked as used); AuthorsWeightsError when missing."""
        if name not in self.tensors:
            raise self.error(
                f"missing {self.label} {name} (the authors' model has it; "
                f"the file holds {len(self.tensors)} {self.label}s)"
            )
        self.used.add(name)
        return np.asarray(self.tensors[name])

    def assign(
        self,
        variable,
        name: str,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        source_shape: Iterable[int] | None = None,
    ) -> None:
        """variable <- transform(tensor `name`), after checking the shapes.

        Args:
            variable: a Keras variable of the built model.
            name: the checkpoint tensor.
            transform: layout change from the authors' framework to Keras.
            source_shape: the shape the authors' tensor must have (checked before
                the transform, so the message speaks the authors' layout).
        """
        value = self.take(name)
        if source_shape is not None and tuple(value.shape) != tuple(source_shape):
            raise self.error(
                f"{self.label} {name} has shape {list(value.shape)}, expected "
                f"{list(source_shape)} for the model's {variable.path}"
            )
        mapped = transform(value) if transform is not None else value
        if tuple(mapped.shape) != tuple(variable.shape):
            raise self.error(
                f"{self.label} {name} has shape {list(value.shape)}, which does not "
                f"fit the model's {variable.path} of shape {list(variable.shape)}"
            )
        variable.assign(np.asarray(mapped, dtype=variable.dtype))

    def finish(self, ignorable: Callable[[str], bool] = lambda name: False) -> None:
        """Raises for the first tensor neither used nor ignorable (sorted by name)."""
        unused = sorted(n for n in self.tensors if n not in self.used)
        unused = [n for n in unused if not ignorable(n)]
        if unused:
            more = f" (and {len(unused) - 1} more)" if len(unused) > 1 else ""
            raise self.error(
                f"unused {self.label} {unused[0]}{more}: the model has no place for "
                "it (a different network, or different build arguments?)"
            )


OPTIMIZER_STATE = ("beta1_power", "beta2_power", "global_step")
SLOT_SUFFIXES = ("/Adam", "/Adam_1")


def optimizer_state(filler: WeightFiller) -> Callable[[str], bool]:
    """Predicate: `name` is TF1 training state the authors' `Saver` also wrote
    (Adam slots of variables `filler` used, beta1/2_power, global_step)."""

    def ignorable(name: str) -> bool:
        if name in OPTIMIZER_STATE:
            return True
        for suffix in SLOT_SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)] in filler.used:
                return True
        return False

    return ignorable


def assign_conv(filler, layer, kernel: str, bias: str | None, transform=None):
    """A convolution's kernel (and bias) from two tensors."""
    filler.assign(layer.kernel, kernel, transform)
    if bias is not None:
        filler.assign(layer.bias, bias, lambda b: np.reshape(b, (-1,)))


def assign_batch_norm(filler, layer, names: Mapping[str, str]) -> None:
    """A Keras BatchNormalization from {"gamma", "beta", "moving_mean",
    "moving_variance"} -> tensor names."""
    for attribute, name in names.items():
        filler.assign(getattr(layer, attribute), name)
