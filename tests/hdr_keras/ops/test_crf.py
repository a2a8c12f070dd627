"""Camera-curve bases (EMoR files, built-in PCA), random curves and the TF curve ops."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras import constants as C
from hdr_keras.ops import crf

S = C.CRF_SAMPLES
U = float(np.finfo(np.float32).eps) / 2  # float32 unit roundoff
# monotone_curve_from_weights divides S - 1 increments by their float32 sum and
# accumulates them (tf.cumsum): each of the two sums errs by at most (S - 1) U, so a
# sample of the curve is exact to 2 (S - 1) U = 1.2e-4 (its docstring: "up to float
# rounding of the cumulative sum"). A missing normalisation is off by O(1).
CURVE_ATOL = 2 * (S - 1) * U


@pytest.fixture
def emor_dir(shared_data):
    folder = shared_data / "crf_emor"
    if not (folder / "emor.txt").is_file():
        pytest.skip(f"EMoR files not found in {folder}")
    return folder


@pytest.fixture(params=["builtin", "emor"])
def basis(request):
    if request.param == "builtin":
        return crf.builtin_basis()
    return crf.load_emor(request.getfixturevalue("emor_dir"))


# ------------------------------------------------------------------ EMoR files
def test_load_emor_reads_the_real_files(emor_dir):
    basis = crf.load_emor(emor_dir)
    assert basis.source == f"emor:{emor_dir}"
    assert basis.num_components == C.CRF_NUM_COMPONENTS
    assert basis.inverse_basis.shape == (C.CRF_NUM_COMPONENTS, S)
    # Values straight from the files (first samples of g0 in invemor.txt).
    np.testing.assert_allclose(
        basis.inverse_mean[:4], [0.0, 1.477256e-3, 2.737898e-3, 3.858105e-3], rtol=1e-6
    )
    # The mean curves are response curves: 0 -> 0, 1 -> 1, increasing.
    for mean in (basis.forward_mean, basis.inverse_mean):
        assert mean[0] == pytest.approx(0.0, abs=1e-6)
        assert mean[-1] == pytest.approx(1.0, abs=1e-6)
        assert np.all(np.diff(mean) >= 0)
    # g0 is the mean of the inverse curves, not the inverse of f0, but close to it.
    x = crf.curve_axis()
    composed = np.interp(basis.forward_mean, x, basis.inverse_mean)
    assert 0.02 < np.abs(composed - x).max() < 0.08
    full = crf.load_emor(emor_dir, num_components=25)
    assert full.num_components == 25
    np.testing.assert_array_equal(full.inverse_basis[:11], basis.inverse_basis)


def test_load_emor_errors_name_the_file(tmp_path, emor_dir):
    with pytest.raises(FileNotFoundError, match="emor.txt"):
        crf.load_emor(tmp_path)
    (tmp_path / "emor.txt").write_bytes((emor_dir / "emor.txt").read_bytes())
    lines = (emor_dir / "invemor.txt").read_text().splitlines()
    (tmp_path / "invemor.txt").write_text("\n".join(lines[:-3]))  # cut block
    with pytest.raises(ValueError, match=r"invemor.txt: block 'hinv\(25\)' has 1012"):
        crf.load_emor(tmp_path)
    lines[5] = "0.1 zero 0.2 0.3"
    (tmp_path / "invemor.txt").write_text("\n".join(lines))
    with pytest.raises(ValueError, match="invemor.txt:6: not a list of numbers"):
        crf.load_emor(tmp_path)


def test_default_basis_precedence(monkeypatch, tmp_path, emor_dir):
    monkeypatch.delenv(crf.EMOR_ENV, raising=False)
    assert crf.default_basis().source == "builtin"
    monkeypatch.setenv(crf.EMOR_ENV, str(emor_dir))
    assert crf.default_basis().source == f"emor:{emor_dir}"
    # A directory argument wins over the environment, and is never silently dropped.
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        crf.default_basis(tmp_path)
    monkeypatch.setenv(crf.EMOR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"\$HDR_KERAS_EMOR_DIR"):
        crf.default_basis()


# ------------------------------------------------------------ built-in basis
def test_builtin_basis_needs_no_files(monkeypatch):
    monkeypatch.delenv(crf.EMOR_ENV, raising=False)
    basis = crf.default_basis()
    assert basis.source == "builtin" and basis.num_components == 11
    forward, inverse = crf.curve_family()
    assert forward.shape == inverse.shape and forward.shape[1] == S
    assert np.all(np.diff(forward, axis=1) > 0) and np.all(np.diff(inverse, axis=1) > 0)
    assert np.all(forward[:, [0, -1]] == [0.0, 1.0])
    # Orthonormal components; 11 components reproduce the family closely.
    for comps in (basis.forward_basis, basis.inverse_basis):
        np.testing.assert_allclose(comps @ comps.T, np.eye(11), atol=1e-4)
    weights = (forward - basis.forward_mean) @ basis.forward_basis.T
    rebuilt = basis.forward_mean + weights @ basis.forward_basis
    assert np.sqrt(np.mean((rebuilt - forward) ** 2)) < 1e-3
    with pytest.raises(ValueError, match="num_components"):
        crf.builtin_basis(0)


def test_sample_curves_are_monotone_inverse_pairs(basis):
    forward, inverse = crf.sample_curves(np.random.default_rng(3), basis, 64)
    assert forward.shape == inverse.shape == (64, S)
    assert forward.dtype == inverse.dtype == np.float32
    for curves in (forward, inverse):
        assert np.all(np.diff(curves, axis=1) >= 0)
        np.testing.assert_array_equal(curves[:, [0, -1]], np.tile([0.0, 1.0], (64, 1)))
    x = crf.curve_axis()
    # f(g(y)) = y up to interpolation; g(f(x)) = x except where f is (nearly) flat.
    forward_of_inverse = np.stack(
        [np.interp(g, x, f) for f, g in zip(forward, inverse)]
    )
    np.testing.assert_allclose(forward_of_inverse, np.tile(x, (64, 1)), atol=1e-4)
    inverse_of_forward = np.stack(
        [np.interp(f, x, g) for f, g in zip(forward, inverse)]
    )
    assert np.abs(inverse_of_forward - x).mean() < 1e-4
    # Varied, camera-like curves: brighten mid-tones, differ from each other.
    assert np.mean(forward[:, S // 4] > x[S // 4]) > 0.8
    assert np.std(forward[:, S // 4]) > 0.05
    again, _ = crf.sample_curves(np.random.default_rng(3), basis, 64)
    np.testing.assert_array_equal(again, forward)


# ------------------------------------------------------------------- TF ops
def test_monotone_curve_spans_0_to_1_for_random_weights(basis):
    rng = np.random.default_rng(0)
    k = basis.num_components
    # Wild weights, far outside any realistic curve, and all-zero weights.
    weights = np.concatenate([rng.normal(0.0, 5.0, (16, k)), np.zeros((1, k))]).astype(
        np.float32
    )
    for mean, comps in (
        (basis.inverse_mean, basis.inverse_basis),
        (basis.forward_mean, basis.forward_basis),
    ):
        curves = crf.monotone_curve_from_weights(weights, mean, comps).numpy()
        assert curves.shape == (17, S)
        assert np.all(np.diff(curves, axis=1) >= 0)
        np.testing.assert_array_equal(curves[:, 0], 0.0)
        np.testing.assert_allclose(curves[:, -1], 1.0, atol=CURVE_ATOL)
        # Zero weights give the mean curve itself (already monotone, 0 -> 1).
        np.testing.assert_allclose(curves[-1], mean, atol=CURVE_ATOL)


def test_monotone_curve_follows_the_construction():
    mean = np.zeros(5, np.float32)
    basis = np.array([[0.0, 2.0, 1.0, 3.0, 4.0]], np.float32)
    curve = crf.monotone_curve_from_weights([[1.0]], mean, basis).numpy()
    # d = [2, -1, 2, 1] -> +1 -> [3, 0, 3, 2] / 8 -> cumsum, prepend 0.
    np.testing.assert_allclose(curve[0], [0, 3 / 8, 3 / 8, 6 / 8, 1.0])
    flat = crf.monotone_curve_from_weights([[0.0]], mean, basis).numpy()
    np.testing.assert_allclose(flat[0], np.linspace(0, 1, 5))  # constant -> identity
    with pytest.raises(ValueError, match="weights have 2 components, basis has 1"):
        crf.monotone_curve_from_weights([[1.0, 2.0]], mean, basis)


def test_apply_curve_is_exact_on_samples_and_linear_between():
    rng = np.random.default_rng(1)
    curves = np.sort(rng.uniform(size=(2, S)), axis=1).astype(np.float32)
    index = rng.integers(0, S, size=(2, 3, 4, 3))
    image = (index / (S - 1)).astype(np.float32)
    out = crf.apply_curve(image, curves).numpy()
    expected = np.stack([curves[b][index[b]] for b in range(2)])
    np.testing.assert_allclose(out, expected, atol=1e-6)
    # Half-way between two samples -> their mean; outside [0, 1] -> clipped.
    between = np.array([[[[0.5 / (S - 1), 1.5, -2.0]]]], np.float32)
    out = crf.apply_curve(between, curves[:1]).numpy()
    np.testing.assert_allclose(
        out[0, 0, 0], [(curves[0, 0] + curves[0, 1]) / 2, curves[0, -1], curves[0, 0]]
    )
    # One curve [S] for the whole batch.
    shared = crf.apply_curve(image, curves[0]).numpy()
    np.testing.assert_allclose(shared, curves[0][index], atol=1e-6)


def test_apply_curve_gradients():
    curve = tf.constant(np.linspace(0, 1, S, dtype=np.float32)[None] ** 2)
    image = tf.constant([[[[0.25, 0.5, 0.75]]]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([image, curve])
        out = crf.apply_curve(image, curve)
    grad_image = tape.gradient(out, image).numpy()
    # d(x^2)/dx = 2x, up to the slope of the piecewise-linear sampling.
    np.testing.assert_allclose(grad_image[0, 0, 0], [0.5, 1.0, 1.5], atol=2e-3)
    grad_curve = tf.convert_to_tensor(tape.gradient(out, curve)).numpy()[0]
    # Each output is a convex combination of two samples: weights sum to 1 each.
    assert grad_curve.sum() == pytest.approx(3.0)
    position = 0.25 * (S - 1)
    low = int(np.floor(position))
    assert grad_curve[low] == pytest.approx(1 - (position - low), abs=1e-4)
    assert grad_curve[low + 1] == pytest.approx(position - low, abs=1e-4)


def test_builtin_basis_is_cached_on_disk(monkeypatch, tmp_path):
    """Built once, written to $HDR_KERAS_CACHE, read back by later processes (here:
    after clearing the in-process cache, with the builder made to fail); an
    unreadable file is rebuilt and rewritten."""
    from hdr_keras.ops import crf_cache

    monkeypatch.setenv(crf_cache.CACHE_ENV, str(tmp_path))
    crf.builtin_basis.cache_clear()
    built = crf.builtin_basis(5)
    path = crf_cache.basis_path(5)
    assert path.is_file() and path.parent.parent == tmp_path
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files

    def fail(num_components):
        raise AssertionError("rebuilt although the cache file is valid")

    monkeypatch.setattr(crf, "_build_builtin_basis", fail)
    crf.builtin_basis.cache_clear()
    read = crf.builtin_basis(5)
    for name in ("inverse_mean", "inverse_basis", "forward_mean", "forward_basis"):
        np.testing.assert_array_equal(getattr(read, name), getattr(built, name))
    np.testing.assert_array_equal(read.forward_weight_range, built.forward_weight_range)
    assert read.source == "builtin"
    # Other parameters, other file.
    assert crf_cache.basis_path(6) != path

    monkeypatch.undo()
    monkeypatch.setenv(crf_cache.CACHE_ENV, str(tmp_path))
    path.write_bytes(b"not an npz file")
    crf.builtin_basis.cache_clear()
    rebuilt = crf.builtin_basis(5)
    np.testing.assert_array_equal(rebuilt.forward_basis, built.forward_basis)
    assert crf_cache._read(path, 5)["forward_basis"].shape == (5, S)
    crf.builtin_basis.cache_clear()
