"""Shared fixtures: the real test data folder (../shared/data by default)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
