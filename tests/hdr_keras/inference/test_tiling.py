"""hdr_keras.inference.tiling: tile layout, blending weights, tiled == untiled inference."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from hdr_keras.inference import tiling


@pytest.mark.parametrize(
    "size, tile, overlap, stride",
    [
        (300, 96, 32, 32),
        (224, 96, 32, 32),
        (1000, 512, 64, 32),
        (50, 96, 32, 32),
        (97, 96, 32, 1),
        (4000, 512, 64, 32),
        (129, 64, 16, 8),
    ],
)
def test_layout_covers_the_axis_with_aligned_overlapping_tiles(
    size, tile, overlap, stride
):
    layout = tiling.tile_layout(size, tile, overlap, stride)
    assert layout[0][0] == 0
    assert layout[-1][0] + layout[-1][1] == size
    for (origin, extent), (following, _) in zip(layout, layout[1:]):
        assert origin % stride == 0 and following % stride == 0
        assert origin + extent - following >= overlap  # at least the overlap
        assert following > origin
    if size > tile:
        assert all(extent == tile for _, extent in layout[:-1])
        assert tile <= layout[-1][1] < tile + stride


def test_layout_rejects_bad_overlap():
    with pytest.raises(ValueError, match="overlap"):
        tiling.tile_layout(500, 96, 96, 32)


def test_weights_are_a_smooth_partition_of_unity():
    layout = tiling.tile_layout(400, 96, 32, 32)
    weights = tiling.axis_weights(layout)
    total = np.zeros(400)
    for (origin, extent), weight in zip(layout, weights):
        total[origin : origin + extent] += weight
        assert weight.max() == pytest.approx(1.0)
    np.testing.assert_allclose(total, 1.0, atol=1e-5)
    first = weights[0]  # falls towards the inner edge, ~0 in the outer quarter
    assert np.all(np.diff(first[-32:]) <= 0)
    assert first[-8:].max() < 1e-5


def stand_in_model() -> keras.Model:
    """Fully convolutional, stride 2 (one pooling), receptive radius <= 6 px."""
    keras.utils.set_random_seed(7)
    ldr = keras.Input((None, None, 3), name="ldr")
    low = layers.Conv2D(8, 3, padding="same", activation="tanh")(ldr)
    coarse = layers.MaxPooling2D(2)(low)
    coarse = layers.Conv2D(8, 3, padding="same", activation="tanh")(coarse)
    coarse = layers.UpSampling2D(2)(coarse)
    merged = layers.Concatenate()([low, coarse])
    hdr = layers.Conv2D(3, 1, activation="softplus")(merged)
    return keras.Model(ldr, hdr)


def test_tiled_equals_untiled_for_a_fully_convolutional_model(helpers):
    model = stand_in_model()
    run = tf.function(lambda x: model(x, training=False))
    ldr = helpers.random_ldr(200, 300, 3, seed=1)  # even sizes: no padding needed
    full = run(ldr[None]).numpy()[0]
    calls = []

    def predict(tile, exposure):
        calls.append(tile.shape)
        return run(tile).numpy()

    tiled = tiling.tiled_predict(predict, ldr, tile=96, overlap=32, stride=2)
    assert len(calls) == tiling.tile_count(200, 300, 96, 32, 2) > 1
    assert {shape[1:3] for shape in calls} == {(96, 96)}  # all tiles equal in size
    np.testing.assert_allclose(tiled, full, atol=1e-5, rtol=1e-5)


def test_tiled_stack_matches_untiled(helpers):
    model = helpers.tiny_stack_model()
    ldr = helpers.random_ldr(3, 70, 90, 3, seed=2)
    exposure = np.float32([0, 2, 4])

    def predict(tile, batch_exposure):
        assert tile.shape[:2] == (1, 3) and batch_exposure.shape == (1, 3)
        return model({"ldr": tile, "exposure": batch_exposure}).numpy()

    tiled = tiling.tiled_predict(predict, ldr, exposure, tile=32, overlap=8)
    full = predict(ldr[None], exposure[None])[0]
    np.testing.assert_allclose(tiled, full, atol=1e-5, rtol=1e-5)


def test_single_tile_calls_the_model_once_on_the_whole_image(helpers):
    ldr = helpers.random_ldr(40, 50, 3)
    calls = []
    result = tiling.tiled_predict(
        lambda x, e: calls.append(x.shape) or x * 2, ldr, tile=64, overlap=16, stride=32
    )
    assert calls == [(1, 40, 50, 3)]
    np.testing.assert_allclose(result, ldr * 2)


@pytest.mark.slow
def test_eilertsen_random_weights_tiled_matches_untiled():
    """HDRCNN with random weights: 200x300, tiles of 96, overlap 32, error <= 1e-3.

    This holds because the tiles are cut on the pooling grid of the whole padded
    image and because, with random weights, the deepest decoder ReLU is inactive,
    which leaves an effective receptive field of 5x5 px. With trained weights the
    212 px receptive field of VGG16 is live and seams can exceed 1e-3 for such
    small tiles (see the benchmark's --seam report); the default tile of 512 with
    an overlap of 64 keeps most of the field inside each tile.
    """
    import hdr_keras
    from hdr_keras.inference.backends import keras_backend

    keras.utils.set_random_seed(0)
    backend = keras_backend(hdr_keras.build_model("eilertsen"))
    assert backend.stride == 32
    rng = np.random.default_rng(3)
    ldr = rng.uniform(0.0, 1.0, (200, 300, 3)).astype(np.float32)
    full = backend.predict(ldr[None], None)[0]
    tiled = tiling.tiled_predict(backend.predict, ldr, None, 96, 32, backend.stride)
    error = tiling.seam_error(tiled, full)
    assert error["max_abs"] <= 1e-3, error
