"""The built-in dataset cache under concurrent use (e.g. two pytest-xdist workers
sharing $HDR_KERAS_CACHE): a set needed by two processes at once is built once, and
both end up reading the same complete copy."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Each child waits for the go file, then asks for the same cached set. The build
# records itself in the log and stays open for a second, so that the two requests
# overlap: without the build lock both would build (two log lines) and the second
# rename would race the first copy.
_CHILD = """
import sys, time
from pathlib import Path
from tfrecords import builtin
from tfrecords.shards import list_shards
import tensorflow as tf

folder, log, go = (Path(arg) for arg in sys.argv[1:4])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)

def records():
    with open(log, "a") as stream:
        stream.write("build\\n")
    time.sleep(1.0)
    for index in range(5):
        yield f"record {index}".encode()

(pattern,) = builtin._cached(
    folder, "test set", [builtin._Split("train", records, 5, 2, "test records")]
)
values = [r.numpy().decode() for r in tf.data.TFRecordDataset(list_shards(pattern))]
print(sorted(values), flush=True)
"""


def test_two_processes_build_a_cached_set_once(tmp_path):
    folder, log, go = tmp_path / "cache" / "set", tmp_path / "log", tmp_path / "go"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO))
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(folder), str(log), str(go)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for child in children:  # both have imported TF and wait for the go file
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
        go.touch()
        outputs = [child.communicate(timeout=300) for child in children]
    finally:
        for child in children:
            child.kill()
    expected = str(sorted(f"record {index}" for index in range(5)))
    for child, (out, err) in zip(children, outputs):
        assert child.returncode == 0, err
        assert out.strip() == expected, err
    assert log.read_text() == "build\n"
    assert (folder / "COMPLETE").exists()
    leftovers = [p.name for p in folder.parent.iterdir() if ".tmp-" in p.name]
    assert leftovers == []


def test_a_stale_incomplete_folder_is_rebuilt(tmp_path):
    from tfrecords import builtin

    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "train-00000-of-00001.tfrecord").write_bytes(b"truncated")
    built = []

    def records():
        built.append(time.time())
        yield b"one"

    (pattern,) = builtin._cached(
        folder, "test set", [builtin._Split("train", records, 1, 1, "test")]
    )
    assert len(built) == 1 and (folder / builtin.COMPLETE_MARKER).exists()
    builtin._cached(folder, "test set", [builtin._Split("train", records, 1, 1, "t")])
    assert len(built) == 1  # complete now: not rebuilt
    assert pattern == str(folder / "train-*.tfrecord")
