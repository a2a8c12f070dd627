"""Helpers for training tests: run `python -m training.main`, tiny datasets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tfrecords.shards import write_sharded
from tfrecords.sources.synthetic import synthetic_hdr_records
from tfrecords.sources.synthetic_stack import synthetic_stack_records

REPO = Path(__file__).resolve().parents[2]


def training_command(*flags: str) -> list[str]:
    return [sys.executable, "-m", "training.main", *flags]


def training_env(**extra: str) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.update(extra)
    return env


def train(*flags: str, timeout: int = 900, **env) -> subprocess.CompletedProcess:
    """Runs training.main to completion and returns its output."""
    return subprocess.run(
        training_command(*flags),
        cwd=REPO,
        env=training_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(*flags: str, **env) -> subprocess.Popen:
    """Starts training.main in the background (stdout and stderr merged, as text)."""
    return subprocess.Popen(
        training_command(*flags),
        cwd=REPO,
        env=training_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="session")
def start_training():
    """The `start(*flags, **env) -> Popen` helper, as a fixture."""
    return start


@pytest.fixture(scope="session")
def run_training():
    """The `train(*flags, timeout=..., **env)` helper, as a fixture."""
    return train


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_sharded(synthetic_hdr_records(4, 48, 48), root, "train", 2)
    write_sharded(synthetic_hdr_records(2, 40, 56, first_seed=100), root, "eval", 1)
    return root


@pytest.fixture(scope="session")
def tiny_stacks(tmp_path_factory):
    root = tmp_path_factory.mktemp("stacks")
    write_sharded(synthetic_stack_records(4, 40, 40), root, "train", 2)
    write_sharded(synthetic_stack_records(2, 36, 52, first_seed=100), root, "eval", 1)
    return root
