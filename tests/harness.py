"""The shared test harness (keras-hub style): one way to test a layer and a method.

- `run_layer_test(cls, init_kwargs, inputs, ...)`: get_config round trip (the
  rebuilt layer has the same config), .keras round trip (a model holding the layer,
  saved and loaded in safe mode, computes the same output) and output shape.
- `run_model_test(method, ...)`: odd image sizes, .keras save/load equality,
  SavedModel export equality (the served signature computes the Keras output) and
  the trainable parameter count.
- `assert_config_round_trip(layer)`, `save_and_load(model, tmp_path)`: the two
  round trips on their own, for tests of a layer's arithmetic;
- `count_params(model)`: trainable parameters (what papers count).
- `write_random_vgg16(path)`: a VGG16 (no top) weights file with random weights,
  in the format `hdr_keras.methods.eilertsen` and `liu` load with `vgg_weights=`.

Tests import these directly (`from tests.harness import ...`) or use the fixtures
of `tests/conftest.py` (`vgg16_file`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import keras
import numpy as np

import hdr_keras
from hdr_keras.spec import SINGLE

# Float32 tolerance of a saved-and-reloaded model: the same weights and the same
# graph give the same float32 results up to reordered reductions, i.e. a few ulp of
# the largest intermediate (relative 1e-5 covers 2^-23 * depth for the deepest
# networks here, ~80 layers); absolute 1e-6 for outputs near zero.
RELOAD_RTOL, RELOAD_ATOL = 1e-5, 1e-6
# A SavedModel runs another graph (tf.function, no Keras) with its own op fusion
# (oneDNN): relative 1e-4 of the output, as tests/serving/test_export_methods.py.
SAVEDMODEL_RTOL, SAVEDMODEL_ATOL = 1e-4, 1e-6


def count_params(model: keras.Model) -> int:
    """Number of trainable parameters (the figure papers quote)."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def write_random_vgg16(path: str | Path, seed: int = 3) -> keras.Model:
    """Writes `keras.applications.VGG16(include_top=False)` with random weights to
    `path` (a `.weights.h5` file) and returns that model (to compare weights with)."""
    keras.utils.set_random_seed(seed)
    vgg = keras.applications.VGG16(
        include_top=False, weights=None, input_shape=(None, None, 3)
    )
    vgg.save_weights(Path(path))
    return vgg


def assert_config_round_trip(layer) -> None:
    """`from_config(get_config())` rebuilds a layer with the same config."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config, type(layer).__name__


def save_and_load(model: keras.Model, tmp_path: Path, name: str = "model") -> keras.Model:
    """Saves `model` as a .keras file and loads it back (safe mode, as users do)."""
    path = Path(tmp_path) / f"{name}.keras"
    model.save(path)
    return keras.saving.load_model(path)  # safe_mode=True by default


def _as_inputs(inputs):
    """Keras Inputs with the shapes of `inputs` (batch dimension left free)."""
    if isinstance(inputs, (list, tuple)):
        return [keras.Input(np.shape(x)[1:], dtype=np.asarray(x).dtype) for x in inputs]
    return keras.Input(np.shape(inputs)[1:], dtype=np.asarray(inputs).dtype)


def _call(layer, symbolic, positional: bool):
    if positional:
        return layer(*symbolic)
    return layer(symbolic)


def run_layer_test(
    cls: type,
    init_kwargs: dict[str, Any],
    inputs,
    tmp_path: Path,
    *,
    positional: bool = False,
    expected_output_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """Checks one custom layer; returns its output on `inputs`.

    Args:
        cls: the layer class (registered with `register_keras_serializable`).
        init_kwargs: constructor arguments.
        inputs: a numpy array, or a list of arrays for a layer taking a list.
        tmp_path: folder for the .keras file.
        positional: the list is passed as separate positional arguments
            (`layer(ldr, exposure)`), not as one list.
        expected_output_shape: shape of the output; default: whatever the layer's
            `compute_output_shape`/symbolic call says, checked against the eager one.
    """
    layer = cls(**init_kwargs)
    assert_config_round_trip(layer)
    registered = keras.saving.get_registered_name(cls)
    assert keras.saving.get_registered_object(registered) is cls, registered

    symbolic = _as_inputs(inputs)
    output = _call(layer, symbolic, positional)
    model = keras.Model(symbolic, output)
    feed = list(inputs) if isinstance(inputs, (list, tuple)) else inputs
    eager = np.asarray(model(feed))
    symbolic_shape = tuple(output.shape)
    assert len(symbolic_shape) == eager.ndim and all(
        s is None or s == e for s, e in zip(symbolic_shape, eager.shape)
    ), f"{cls.__name__}: symbolic shape {symbolic_shape} vs eager {eager.shape}"
    if expected_output_shape is not None:
        assert eager.shape == tuple(expected_output_shape), eager.shape

    loaded = save_and_load(model, tmp_path, cls.__name__)
    reloaded = np.asarray(loaded(feed))
    np.testing.assert_allclose(reloaded, eager, rtol=RELOAD_RTOL, atol=RELOAD_ATOL)
    return eager


def method_inputs(method: str, height: int, width: int, num_frames: int = 3, seed=0):
    """Random inputs of a registered method at an image size (batch of one)."""
    rng = np.random.default_rng(seed)
    spec = hdr_keras.get_method(method)
    if spec.input_kind == SINGLE:
        return rng.uniform(0, 1, (1, height, width, 3)).astype("float32")
    return {
        "ldr": rng.uniform(0, 1, (1, num_frames, height, width, 3)).astype("float32"),
        "exposure": (np.arange(num_frames, dtype="float32") * 2.0)[None],
    }


def run_model_test(
    method: str,
    tmp_path: Path,
    *,
    build_kwargs: dict[str, Any] | None = None,
    sizes: Sequence[tuple[int, int]] | Callable = ((37, 53),),
    expected_params: int | None = None,
    savedmodel: bool = True,
) -> tuple[keras.Model, Any]:
    """Checks a registered method end to end; returns (model, the exported
    `serving_default` signature or None).

    Odd sizes give an output of the input's size; the .keras file reloads to the
    same outputs; the exported SavedModel's `serving_default` computes them too;
    the trainable parameter count is `expected_params` (when given). `sizes` may
    be a callable of the built model (e.g. smaller sizes for a model with flow).
    """
    keras.utils.set_random_seed(3)
    spec = hdr_keras.get_method(method)
    model = hdr_keras.build_model(method, **(build_kwargs or {}))
    if expected_params is not None:
        assert count_params(model) == expected_params, count_params(model)
    outputs = {}
    for height, width in sizes(model) if callable(sizes) else sizes:
        inputs = method_inputs(method, height, width)
        hdr = np.asarray(model(inputs))
        assert hdr.shape == (1, height, width, 3), (method, hdr.shape)
        assert np.all(np.isfinite(hdr)), method
        outputs[height, width] = (inputs, hdr)

    loaded = save_and_load(model, tmp_path, method)
    for inputs, hdr in outputs.values():
        np.testing.assert_allclose(
            loaded(inputs), hdr, rtol=RELOAD_RTOL, atol=RELOAD_ATOL
        )

    served = None
    if savedmodel:
        import tensorflow as tf

        from hdr_keras.export import export_model

        from hdr_keras.export import xla

        # a model with XLA programs of its own (Kalantari's flow) is exported
        # keeping them, as serving.export does by default, so that the server
        # computes what the Keras model computed; the op-by-op export ("off") is
        # tests/serving/export/test_jit_compile.py's
        exported = export_model(
            model,
            Path(tmp_path) / "export",
            spec.input_kind,
            jit_compile=xla.plain_mode(model),
        )
        served = tf.saved_model.load(str(exported)).signatures["serving_default"]
        for inputs, hdr in outputs.values():
            if spec.input_kind == SINGLE:
                result = served(ldr=tf.constant(inputs))
            else:
                result = served(
                    ldr=tf.constant(inputs["ldr"]),
                    exposure=tf.constant(inputs["exposure"]),
                )
            np.testing.assert_allclose(
                result["hdr"], hdr, rtol=SAVEDMODEL_RTOL, atol=SAVEDMODEL_ATOL
            )
    return model, served
