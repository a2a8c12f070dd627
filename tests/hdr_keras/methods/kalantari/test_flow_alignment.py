"""FlowAlignment layer: config round trip, .keras save/load, outputs of align_stack."""

from __future__ import annotations

import keras
import numpy as np

from hdr_keras.methods.kalantari.flow_alignment import FlowAlignment
from hdr_keras.ops.alignment import align_stack


def _stack(height=24, width=32):
    """A smooth 3-frame stack whose outer frames are shifted by 1-2 pixels."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)

    def scene(dy, dx):
        value = 0.5 + 0.2 * np.sin((x - dx) / 2.3) * np.cos((y - dy) / 3.1)
        return value[..., None] * np.array([1.0, 0.8, 0.6])

    frames = [scene(1, 2) * 0.7, scene(0, 0), np.minimum(scene(-1, -1) * 1.4, 1)]
    ldr = np.stack(frames)[None].astype("float32")
    return ldr, np.array([[0.0, 1.0, 2.0]], "float32")


def test_get_config_round_trip():
    layer = FlowAlignment(
        reference=0, alpha=0.02, ratio=0.6, min_width=12, outer_iterations=3,
        inner_iterations=2, sor_iterations=10, gradient_constancy=False,
        return_mask=True,
    )  # fmt: skip
    config = layer.get_config()
    clone = FlowAlignment.from_config(config)
    assert clone.get_config() == config
    assert config["alpha"] == 0.02 and config["sor_iterations"] == 10
    assert config["reference"] == 0 and config["return_mask"] is True
    defaults = FlowAlignment().get_config()
    assert (defaults["alpha"], defaults["ratio"], defaults["min_width"]) == (
        0.012,
        0.75,
        20,
    )
    assert (
        defaults["outer_iterations"],
        defaults["inner_iterations"],
        defaults["sor_iterations"],
    ) == (7, 1, 30)


def test_model_output_equals_align_stack_and_survives_save_load(tmp_path):
    ldr_in = keras.Input((3, None, None, 3), name="ldr")
    exposure_in = keras.Input((3,), name="exposure")
    aligned, valid = FlowAlignment(return_mask=True)([ldr_in, exposure_in])
    model = keras.Model({"ldr": ldr_in, "exposure": exposure_in}, [aligned, valid])
    assert model.count_params() == 0 and not model.trainable_weights
    ldr, exposure = _stack()
    inputs = {"ldr": ldr, "exposure": exposure}
    out_aligned, out_valid = model(inputs)
    expected = align_stack(ldr, exposure)
    np.testing.assert_allclose(out_aligned, expected[0], atol=1e-6)
    np.testing.assert_array_equal(out_valid, expected[1])
    assert out_valid.shape == (1, 3, 24, 32, 1)
    np.testing.assert_array_equal(np.asarray(out_aligned)[:, 1], ldr[:, 1])
    # the outer frames moved: they do not equal their unaligned input any more
    assert np.abs(np.asarray(out_aligned)[:, 0] - ldr[:, 0]).mean() > 0.01

    path = tmp_path / "flow_alignment.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode=True
    again = loaded(inputs)
    np.testing.assert_allclose(again[0], out_aligned, atol=1e-6)


def test_without_mask_returns_only_the_aligned_stack():
    layer = FlowAlignment(reference=1)
    ldr, exposure = _stack()
    out = layer([ldr, exposure])
    assert out.shape == ldr.shape
    assert layer.compute_output_shape(((None, 3, None, None, 3), (None, 3))) == (
        None,
        3,
        None,
        None,
        3,
    )
