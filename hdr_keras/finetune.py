"""Fine-tuning: load a trained model, freeze named parts, `compile` and `fit` again.

    import hdr_keras, keras
    model = hdr_keras.load_model("runs/ahdrnet")          # folder with final.keras
    hdr_keras.freeze(model, "encoder,attention")          # or ["encoder", ...]
    model.compile(optimizer=keras.optimizers.Adam(1e-5),  # compile AFTER freezing
                  loss=hdr_keras.losses.MuLawLoss("l1"))
    model.fit(new_data, epochs=...)

Parts are defined per method in the registry (`get_method(name).parts`): part
name -> fnmatch patterns over the model's top-level layer names, e.g. Eilertsen's
"encoder" is the 13 VGG16 convolutions `block*_conv*`.

Which method a model is: `method_of(model)` reads `model.name`. Every builder names
its model after its registry entry (`build_eilertsen` -> "eilertsen",
`build_ahdrnet` -> "ahdrnet", `build_wu_resnet` -> "wu_resnet", `build_wu_unet` ->
"wu_unet"); the loss views (`MethodSpec.loss_model`) keep that name and a `.keras`
file stores it. A model built with another `name=` needs `method=` explicitly.

Keras traps, both handled or reported here:
- Changing `trainable` takes effect in `fit` only after a new `compile()`: the
  compiled train function keeps the variable list it was traced with. `freeze`
  and `unfreeze` warn when the model is already compiled. When training through a
  loss view (`spec.loss_model(model)`, which shares the layers), compile that view
  after freezing; the warning cannot see it.
- A BatchNormalization layer with `trainable=False` runs in inference mode: its
  moving mean and variance stop updating too (Keras 3 semantics), which is what
  fine-tuning a frozen part wants.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import warnings
import zipfile
from pathlib import Path
from typing import Iterable

import keras

from hdr_keras.inference.paths import FINAL_MODEL
from hdr_keras.registry import get_method, list_methods

_log = logging.getLogger(__name__)


def load_model(path: str | Path, compile: bool = True) -> keras.Model:
    """Loads a `.keras` model file, or `<model_dir>/final.keras` of a training run.

    Loads in safe mode with the package's custom layers, losses and metrics
    registered (importing `hdr_keras` registers them).

    Args:
        path: a `.keras` archive, or a training model_dir containing `final.keras`.
        compile: restore the saved compile configuration, if any (Keras default).
    Raises:
        FileNotFoundError: naming the path (or the expected `final.keras`) when
            missing.
        ValueError: naming the file when it is not a loadable Keras archive.
    """
    path = Path(path)
    if path.is_dir():
        folder, path = path, path / FINAL_MODEL
        if not path.is_file():
            hint = ""
            if (folder / "saved_model.pb").is_file():
                hint = (
                    " (this folder is a SavedModel export for serving; load the "
                    ".keras file of the training run instead)"
                )
            raise FileNotFoundError(
                f"{folder} is a folder without {FINAL_MODEL}: expected {path}{hint}"
            )
    elif not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a Keras archive (a .keras zip file written by "
            "model.save)"
        )
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as error:  # keras raises several types for broken archives
        raise ValueError(f"{path}: cannot load as a Keras model: {error}") from error


def method_of(model: keras.Model) -> str:
    """The registry name of `model`, read from `model.name` (see module docstring).

    Raises ValueError when the name is not a registered method.
    """
    if model.name in list_methods():
        return model.name
    raise ValueError(
        f"model {model.name!r} is not named after a registered method "
        f"({', '.join(list_methods())}); pass method= explicitly"
    )


def parse_parts(parts: str | Iterable[str]) -> list[str]:
    """Part names from "encoder,attention" or ["encoder", "attention"] (in order)."""
    if isinstance(parts, str):
        parts = parts.split(",")
    names = []
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"part names must be strings, got {part!r}")
        for name in part.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    if not names:
        raise ValueError("no part names given")
    return names


def part_layers(
    model: keras.Model, parts: str | Iterable[str], method: str | None = None
) -> list[keras.layers.Layer]:
    """Top-level layers of `model` in the named parts, in model order.

    Raises ValueError listing the method's parts for an unknown part, and when a
    part matches no layer (the model is not that method's architecture).
    """
    method = method_of(model) if method is None else method
    spec = get_method(method)
    names = parse_parts(parts)
    unknown = [name for name in names if name not in spec.parts]
    if unknown:
        raise ValueError(
            f"unknown part {unknown[0]!r} of method {method!r}; valid parts: "
            f"{', '.join(spec.parts) or '(none defined)'}"
        )
    selected = []
    for name in names:
        matched = [
            layer
            for layer in model.layers
            if any(fnmatch.fnmatchcase(layer.name, p) for p in spec.parts[name])
        ]
        if not matched:
            raise ValueError(
                f"part {name!r} of method {method!r} (patterns "
                f"{', '.join(spec.parts[name])}) matches no layer of model "
                f"{model.name!r}"
            )
        selected.extend(layer for layer in matched if layer not in selected)
    return [layer for layer in model.layers if layer in selected]


def _set_trainable(layer: keras.layers.Layer, value: bool) -> None:
    """`layer.trainable = value`, applied to its sublayers and variables as well.

    With the TensorFlow backend `layer.trainable = True` is a no-op when
    `layer.trainable` is already True (TF's AutoTrackable skips assigning the same
    object), even when sublayers were frozen one by one; toggling forces Keras'
    setter to run and propagate.
    """
    if layer.trainable == value:
        layer.trainable = not value
    layer.trainable = value


def _warn_if_compiled(model: keras.Model, action: str) -> None:
    if getattr(model, "compiled", False):
        warnings.warn(
            f"{action} layers of the compiled model {model.name!r}: call "
            "model.compile() again before fit(), otherwise Keras keeps training "
            "the variables it was compiled with",
            stacklevel=3,
        )


def _count(layers: list[keras.layers.Layer]) -> tuple[int, int]:
    """(weight tensors, scalar parameters) owned by `layers`."""
    weights = [w for layer in layers for w in layer.weights]
    return len(weights), sum(math.prod(w.shape) for w in weights)


def _trainable_params(model: keras.Model) -> int:
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def freeze(
    model: keras.Model, parts: str | Iterable[str], method: str | None = None
) -> list[str]:
    """Sets `trainable=False` on every layer of the named parts.

    Args:
        model: a model built by the registry (or loaded from its `.keras` file).
        parts: part names, as a list/tuple or a comma-separated string
            ("encoder,attention"); see `get_method(method).parts`.
        method: registry name of the model's method; None: `method_of(model)`.
    Returns:
        The names of the frozen layers that own weights, in model order
        (weightless layers of the parts, e.g. activations, are set too).
    Raises:
        ValueError: unknown part (the message lists the method's parts), or a
            model not named after a method and no `method`.
    Call `model.compile()` afterwards (a warning says so if it was compiled).
    """
    layers = part_layers(model, parts, method)
    for layer in layers:
        _set_trainable(layer, False)
    frozen = [layer for layer in layers if layer.weights]
    num_weights, num_params = _count(frozen)
    _log.info(
        "froze %d layers of %r (%s): %d weights, %d parameters; %d trainable "
        "parameters remain",
        len(frozen),
        model.name,
        ", ".join(parse_parts(parts)),
        num_weights,
        num_params,
        _trainable_params(model),
    )
    _warn_if_compiled(model, "froze")
    return [layer.name for layer in frozen]


def unfreeze(
    model: keras.Model,
    parts: str | Iterable[str] | None = None,
    method: str | None = None,
) -> list[str]:
    """Sets `trainable=True` on the layers of the named parts (None: all layers).

    Arguments and return value as `freeze`. When the whole model was frozen
    (`model.trainable = False`), unfreezing some parts leaves the others frozen.
    """
    if parts is None:
        _set_trainable(model, True)
        layers = list(model.layers)
    else:
        layers = part_layers(model, parts, method)
        if not model.trainable:  # Keras hides every weight of a frozen model
            model.trainable = True
            for layer in model.layers:
                _set_trainable(layer, False)
        for layer in layers:
            _set_trainable(layer, True)
    unfrozen = [layer for layer in layers if layer.weights]
    num_weights, num_params = _count(unfrozen)
    _log.info(
        "unfroze %d layers of %r (%s): %d weights, %d parameters; %d trainable "
        "parameters now",
        len(unfrozen),
        model.name,
        "all" if parts is None else ", ".join(parse_parts(parts)),
        num_weights,
        num_params,
        _trainable_params(model),
    )
    _warn_if_compiled(model, "unfroze")
    return [layer.name for layer in unfrozen]
