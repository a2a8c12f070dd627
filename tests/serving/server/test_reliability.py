"""Reliability of `python -m serving.server` against a live process on 127.0.0.1,
with the official tensorflow-serving-api stubs (issue 16, requirement 3).

- Every request row of `serving.server.compat.ROWS` (the compatibility table in
  docs/serving.md) is sent; the answer must be the documented one, and a good
  request right after it must still be answered exactly as a local run.
- 16 concurrent clients mix good and bad requests: every good one is answered and
  equals a local run.
- While clients send, a half-written version folder, a version that fails to load,
  a new version and a removed version come and go: no good request fails.
- The server's peak RSS is sampled over rounds of all of the above, printed, and
  must not grow after the first round by more than a bound derived below.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_service_pb2_grpc

from hdr_keras.layers.padding import CropToMatch, PadToMultiple
from serving.export import export_model
from serving.server import compat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reliability_requests as rr  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[3]
CLIENTS = 16


def padded_model() -> keras.Model:
    """Mirror-pads to a multiple of 8 like eilertsen does to 32: needs >= 3 x 3."""
    keras.utils.set_random_seed(3)
    ldr = keras.Input((None, None, 3), name="ldr")
    padded = PadToMultiple(8)(ldr)
    conv = keras.layers.Conv2D(3, 3, padding="same", activation="softplus")(padded)
    return keras.Model(ldr, CropToMatch(8)([conv, ldr]), name="padded")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_kib(pid: int) -> int:
    """The larger of the current RSS and the kernel's high-water mark (the server
    resets the latter when it measures a model, `serving.server.budget`)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return max(values.values())


class Live:
    """A `python -m serving.server` process over a models.config."""

    def __init__(self, base: Path, extra_flags=()):
        self.base = base
        self.rest_port = free_port()
        command = [
            sys.executable,
            "-m",
            "serving.server",
            "--port=0",
            f"--rest_api_port={self.rest_port}",
            f"--model_config_file={base / 'models.config'}",
            "--file_system_poll_wait_seconds=1",
            f"--grpc_channel_arguments=grpc.max_receive_message_length={rr.MESSAGE_LIMIT}",
            f"--max_pixels_per_request={rr.MAX_PIXELS}",
            f"--grpc_max_threads={2 * CLIENTS}",
            "--max_num_load_retries=1",
            "--load_retry_interval_micros=100000",
            *extra_flags,
        ]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO_ROOT)}
        self.log = open(base / "server.log", "w")
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        line = ""
        deadline = time.monotonic() + 120
        while "Running gRPC ModelServer at" not in line:
            assert self.process.poll() is None, (base / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            line = self.process.stdout.readline()
        self.grpc_port = int(line.split(" at ")[1].split()[0].rsplit(":", 1)[1])
        self.rest_url = f"http://127.0.0.1:{self.rest_port}"
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{self.grpc_port}",
            options=[("grpc.max_send_message_length", 64 << 20)],
        )
        self.predict = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.last_details = ""
        self.peak_kib = 0
        self._sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._sampling.wait(0.02):
            try:
                self.peak_kib = max(self.peak_kib, peak_rss_kib(self.process.pid))
            except (OSError, ValueError):
                return

    def stop(self) -> None:
        self._sampling.set()
        self.channel.close()
        self.process.terminate()
        try:
            assert self.process.wait(timeout=30) == 0
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.stdout.close()
            self.log.close()


class Models:
    """The served repository and the local runs the answers are compared with."""

    def __init__(self, base: Path, helpers):
        self.single = export_model(
            helpers.tiny_single_model(), base / "single", "single"
        )
        self.stack = export_model(helpers.tiny_stack_model(), base / "stack", "stack")
        export_model(padded_model(), base / "padded", "single")
        self.hot = base / "hot"
        self.hot_models = {v: helpers.tiny_single_model(seed=20 + v) for v in (1, 3, 5)}
        export_model(self.hot_models[1], self.hot, "single", version=1)
        (base / "models.config").write_text(
            "model_config_list {\n"
            + "".join(
                f'  config {{ name: "{name}" base_path: "{base / name}" '
                f'model_platform: "tensorflow" {extra} }}\n'
                for name, extra in [
                    ("single", 'version_labels { key: "stable" value: 1 }'),
                    ("stack", ""),
                    ("padded", ""),
                    ("hot", "model_version_policy { all {} }"),
                ]
            )
            + "}\n"
        )
        self._local = {}

    def expected(self, path: Path, inputs: dict) -> dict:
        if path not in self._local:
            self._local[path] = tf.saved_model.load(str(path)).signatures[
                "serving_default"
            ]
        outputs = self._local[path](**{k: tf.constant(v) for k, v in inputs.items()})
        return {k: v.numpy() for k, v in outputs.items()}


@pytest.fixture(scope="module")
def live(tmp_path_factory, helpers):
    base = tmp_path_factory.mktemp("reliability")
    models = Models(base, helpers)
    server = Live(base)
    server.models = models
    try:
        yield server
    finally:
        server.stop()
        print(
            f"\nserving.server peak RSS over the reliability suite: {server.peak_kib / 1024:.0f} MiB"
        )


def good_request(live, index: int = 0) -> None:
    """A good request to "single"; its answer must equal the local run."""
    inputs = {"ldr": rr.ldr(1, 5 + index % 7, 6, 3, seed=index)}
    response = live.predict.Predict(rr.request("single", inputs), timeout=rr.TIMEOUT)
    got = {k: tf.make_ndarray(v) for k, v in response.outputs.items()}
    want = live.models.expected(live.models.single, inputs)
    assert sorted(got) == sorted(want)
    for name in want:  # same graph, same inputs: equal up to float32 rounding
        np.testing.assert_allclose(got[name], want[name], rtol=1e-6, atol=1e-7)


REQUEST_ROWS = [row for row in compat.ROWS if row.kind == "request"]


def test_every_request_row_has_a_sender():
    assert sorted(rr.SENDERS) == sorted(row.id for row in REQUEST_ROWS)


@pytest.mark.parametrize("row", REQUEST_ROWS, ids=[row.id for row in REQUEST_ROWS])
def test_bad_request_then_good_request(live, row):
    answer = rr.SENDERS[row.id](live)
    documented = (row.ours or row.tf_serving).split()[0].strip("`")
    assert answer == documented, live.last_details
    fragment = rr.FRAGMENTS.get(row.id)
    if fragment:
        assert fragment in live.last_details
    good_request(live, index=len(row.id))


def mixed_round(live, rounds_seed: int) -> None:
    """16 concurrent clients, each sending good and bad requests in turn."""
    bad = [
        rr.SENDERS[key]
        for key in ("rank", "nan", "unknown_signature", "truncated", "rest_null")
    ]

    def client(index: int) -> int:
        answered = 0
        for step in range(4):
            if (index + step) % 2:
                assert bad[(index + step) % len(bad)](live) != "OK"
            else:
                good_request(live, index=rounds_seed * 100 + index * 4 + step)
                answered += 1
        return answered

    with ThreadPoolExecutor(CLIENTS) as pool:
        answered = list(pool.map(client, range(CLIENTS)))
    assert sum(answered) == CLIENTS * 2


def test_concurrent_clients_mixing_good_and_bad(live):
    mixed_round(live, 0)


def test_versions_change_while_clients_send(live):
    """Version policy "all": clients ask for the latest version and must be
    answered by whichever version is latest, equal to its local run."""
    hot, models = live.models.hot, live.models
    stop, failures, answered = threading.Event(), [], []

    def client(index: int) -> None:
        while not stop.is_set():
            inputs = {"ldr": rr.ldr(1, 6, 7, 3, seed=index)}
            try:
                response = live.predict.Predict(
                    rr.request("hot", inputs), timeout=rr.TIMEOUT
                )
                version = response.model_spec.version.value
                got = tf.make_ndarray(response.outputs["hdr"])
                want = models.expected(hot / str(version), inputs)["hdr"]
                np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
                answered.append(version)
            except Exception as error:  # collected: the test fails below
                failures.append(repr(error))

    def status() -> dict:
        from serving.client import GrpcClient

        with GrpcClient(f"127.0.0.1:{live.grpc_port}", timeout=rr.TIMEOUT) as client:
            return {s["version"]: s for s in client.status("hot")}

    def wait_for(condition, timeout=60.0):
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, status()
            time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        (hot / "2" / "variables").mkdir(parents=True)  # half-written: no saved_model.pb
        wait_for(lambda: status().get(2, {}).get("state") == "END")
        assert status()[2]["error_code"] == "NOT_FOUND"
        export_model(models.hot_models[3], hot, "single", version=3)
        wait_for(lambda: status().get(3, {}).get("state") == "AVAILABLE")
        (hot / "4").mkdir()
        (hot / "4" / "saved_model.pb").write_bytes(b"not a saved model")
        wait_for(lambda: status().get(4, {}).get("state") == "END")
        assert status()[4]["error_code"] == "DATA_LOSS"
        export_model(models.hot_models[5], hot, "single", version=5)
        wait_for(lambda: status().get(5, {}).get("state") == "AVAILABLE")
        models.expected(hot / "5", {"ldr": rr.ldr(1, 6, 7, 3)})  # load before removal
        time.sleep(0.5)
        shutil.rmtree(hot / "5")  # the latest version removed while clients send
        wait_for(lambda: status().get(5, {}).get("state") == "END")
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not failures, failures[:3]
    assert {1, 3, 5} <= set(answered) and answered[-1] == 3
    assert status()[4]["state"] == "END"  # failed versions are never retried


def test_peak_rss_does_not_grow_after_the_first_round(live):
    """Rounds of every request row plus the concurrent mix. Allowed growth after
    round 1: one more set of in-flight requests: CLIENTS x the largest accepted
    request (the budget, MAX_PIXELS x 3 float32) x 7 copies (request proto, numpy,
    tensor, 2 outputs x (tensor + proto))."""
    peaks = []
    for round_index in range(3):
        for row in REQUEST_ROWS:
            rr.SENDERS[row.id](live)
        mixed_round(live, round_index + 1)
        time.sleep(0.1)  # one more RSS sample
        peaks.append(live.peak_kib)
    bound_kib = CLIENTS * rr.MAX_PIXELS * 3 * 4 * 7 / 1024
    print(f"\npeak RSS after each round (MiB): {[round(p / 1024) for p in peaks]}")
    assert peaks[-1] - peaks[0] <= bound_kib
