"""Fixtures for the inference tests: tiny models and random LDR images."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inference_test_models  # noqa: E402


@pytest.fixture(scope="session")
def helpers():
    """Model builders and data helpers (`inference_test_models`)."""
    return inference_test_models.helpers()
