"""A `tfrecords.make` killed while writing leaves no shard a reader would use, and
the next run succeeds (issue 12, requirement 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfrecords.shards import check_framing, list_shards, write_sharded
from tfrecords.sources.synthetic import synthetic_hdr_records

REPO = Path(__file__).resolve().parents[2]


def _wait_for(condition, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 240
    while not condition():
        assert process.poll() is None, f"tfrecords.make ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_make_killed_mid_write_leaves_no_visible_shard(tmp_path, run_make):
    out = tmp_path / "out"
    flags = ["--source=synthetic", f"--out={out}", "--num_shards=2", "--size=64"]
    process = subprocess.Popen(
        [sys.executable, "-m", "tfrecords.make", *flags, "--num_scenes=400"],
        cwd=REPO,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Killed once records have reached a temporary shard file: mid-write.
        _wait_for(
            lambda: any(p.stat().st_size > 0 for p in out.glob(".*.tmp-*")),
            process,
            "the first records were written",
        )
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    assert list(out.glob(".*.tmp-*")), "the killed writer left its temporary files"
    for pattern in (str(out), str(out / "*"), str(out / "train-*")):
        with pytest.raises(FileNotFoundError, match="no TFRecord shards match"):
            list_shards(pattern)

    result = run_make(*flags, "--num_scenes=3")
    assert result.returncode == 0, result.stdout + result.stderr
    shards = list_shards(str(out))
    assert [os.path.basename(p) for p in shards] == [
        "train-00000-of-00002.tfrecord",
        "train-00001-of-00002.tfrecord",
    ]
    assert sum(check_framing(p) for p in shards) == 3
    assert not list(out.glob(".*.tmp-*")), "the dead writer's files were removed"


def test_an_incomplete_shard_set_is_refused_naming_the_missing_shard(tmp_path):
    # What a kill between the renames of the finished shards leaves: the set's old
    # shards are deleted before the renames, so some members are missing.
    paths = write_sharded(synthetic_hdr_records(2, 16, 16), tmp_path, "train", 2)
    paths[1].unlink()
    with pytest.raises(FileNotFoundError, match="train-00001-of-00002.tfrecord"):
        list_shards(str(tmp_path / "train-*"))
    # Selecting one shard of a complete set is fine.
    paths = write_sharded(synthetic_hdr_records(2, 16, 16), tmp_path, "train", 2)
    assert list_shards(str(paths[0])) == [str(paths[0])]
