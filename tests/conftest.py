"""Shared fixtures: the real test data folder (../shared/data by default).

Also gives each pytest-xdist worker its share of the cores before TensorFlow is
imported: with two workers on two cores, one TF intra-op thread each (and one
OpenMP thread for oneDNN), so the workers do not fight over the cores. The
variables are inherited by the subprocesses tests start (training.main, servers).
Variables already set in the environment win.

The XLA programs of the optical flow (`hdr_keras.ops.flow.buckets`) are compiled
once per size bucket and process; a persistent XLA cache under $HDR_KERAS_CACHE
(`TF_XLA_FLAGS=--tf_xla_persistent_cache_directory`, unless TF_XLA_FLAGS is set)
lets the workers and the subprocesses share them.
"""

from __future__ import annotations

import os
from pathlib import Path


def _share_cores_between_workers() -> None:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    if workers <= 1:
        return
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - macOS, Windows
        cores = os.cpu_count() or 1
    threads = max(1, cores // workers)
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", str(max(2, threads)))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))


def _share_xla_programs() -> None:
    cache = os.environ.get("HDR_KERAS_CACHE")
    if cache and "TF_XLA_FLAGS" not in os.environ:
        directory = Path(cache) / "xla"
        directory.mkdir(parents=True, exist_ok=True)
        os.environ["TF_XLA_FLAGS"] = f"--tf_xla_persistent_cache_directory={directory}"


_share_cores_between_workers()
_share_xla_programs()

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_data_dir() -> Path:
    """Folder of real HDR data: $HDR_KERAS_TEST_DATA or ../shared/data beside the repo."""
    env = os.environ.get("HDR_KERAS_TEST_DATA")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data")


@pytest.fixture
def shared_data() -> Path:
    """Path of the real-data folder; skips the test with a reason when it is absent."""
    root = test_data_dir()
    if not root.is_dir():
        pytest.skip(
            f"real test data not found at {root} (set HDR_KERAS_TEST_DATA to the "
            "folder described in shared/data/SOURCES.md)"
        )
    return root


@pytest.fixture(scope="session")
def random_vgg16(tmp_path_factory):
    """(path, model): a VGG16 (no top) weights file with random weights, written once
    per test run, and the Keras model whose weights it holds."""
    from tests.harness import write_random_vgg16

    path = tmp_path_factory.mktemp("vgg16") / "vgg16_notop.weights.h5"
    return path, write_random_vgg16(path)
