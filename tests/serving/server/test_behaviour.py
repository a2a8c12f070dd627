"""Server behaviour rows of the compatibility table (`serving.server.compat`):
startup, base-path loss, concurrency limit, REST timeout, flags, pixel budget."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import numpy as np
import pytest

from serving.client import GrpcClient, RestClient
from serving.export import export_model
from serving.server import budget
from serving.server.cli import build_parser
from serving.server.errors import ServingError
from serving.server.model_server import ModelServer
from serving.server.servables import Servable, model_config

REPO_ROOT = Path(__file__).resolve().parents[3]
TIMEOUT = 60.0


def test_startup_exits_when_a_model_cannot_load(tmp_path):
    (tmp_path / "broken" / "1").mkdir(parents=True)
    (tmp_path / "broken" / "1" / "saved_model.pb").write_bytes(b"not a saved model")
    command = [
        sys.executable,
        "-m",
        "serving.server",
        "--port=0",
        "--model_name=broken",
        f"--model_base_path={tmp_path / 'broken'}",
        "--max_num_load_retries=1",
        "--load_retry_interval_micros=1000",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "1 model(s) did not become available" in done.stderr
    assert "DATA_LOSS" in done.stderr
    assert "Running gRPC ModelServer" not in done.stdout  # ports never opened


def test_base_path_loss_keeps_serving(tmp_path, helpers):
    base = tmp_path / "models" / "lost"
    export_model(helpers.tiny_single_model(), base, "single")
    server = ModelServer(
        [model_config("lost", base)],
        port=0,
        rest_api_port=0,
        file_system_poll_wait_seconds=0.05,
    ).start()
    try:
        shutil.move(str(tmp_path / "models"), str(tmp_path / "elsewhere"))
        time.sleep(0.5)  # ten polls of a missing base path
        with GrpcClient(f"127.0.0.1:{server.grpc_port}", timeout=TIMEOUT) as client:
            assert client.status("lost")[0]["state"] == "AVAILABLE"
            out = client.predict("lost", {"ldr": helpers.random_ldr(1, 4, 4, 3)})
        assert out["hdr"].shape == (1, 4, 4, 3)
    finally:
        server.stop(grace=None)


def test_limits_concurrency_and_rest_timeout(repository, helpers):
    """One gRPC slot: a second call while the first one runs is refused with
    RESOURCE_EXHAUSTED; a REST run past the deadline answers 504."""
    server = ModelServer(
        repository.configs()[:1],
        port=0,
        rest_api_port=None,
        grpc_max_threads=1,
        rest_api_timeout_seconds=0.2,
    ).start()
    release, started = threading.Event(), threading.Event()
    servable = server.manager.get("single")
    original = servable.run

    def blocking_run(*args, **kwargs):
        started.set()
        release.wait(TIMEOUT)
        return original(*args, **kwargs)

    servable.run = blocking_run
    ldr = helpers.random_ldr(1, 4, 4, 3)
    target = f"127.0.0.1:{server.grpc_port}"
    try:
        first = threading.Thread(
            target=lambda: GrpcClient(target, timeout=TIMEOUT).predict(
                "single", {"ldr": ldr}
            )
        )
        first.start()
        assert started.wait(TIMEOUT)
        with GrpcClient(target, timeout=TIMEOUT) as client:
            with pytest.raises(ServingError) as caught:
                client.predict("single", {"ldr": ldr})
        assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        rest = RestClient(f"127.0.0.1:{server.rest_port}", timeout=TIMEOUT)
        with pytest.raises(ServingError) as caught:
            rest.predict("single", {"ldr": ldr})
        assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED  # 504
        release.set()
        first.join(TIMEOUT)
        servable.run = original
        with GrpcClient(target, timeout=TIMEOUT) as client:
            assert client.predict("single", {"ldr": ldr})["hdr"].shape == ldr.shape
    finally:
        release.set()
        server.stop(grace=None)


@pytest.mark.parametrize(
    "flag",
    [
        "--host=0.0.0.0",
        "--grpc_max_message_size=1024",
        "--file_system_poll_wait_seconds=0.5",
        "--model_config_file_poll_wait_seconds=1.5",
        "--enable_model_warmup=true",  # a real flag this server does not implement
    ],
)
def test_flags_as_the_real_server(flag, capsys):
    from serving.server.cli import main

    with pytest.raises(SystemExit) as caught:
        main([flag, "--model_name=m", "--model_base_path=/nowhere"])
    assert caught.value.code == 2
    name = flag.split("=")[0]
    assert name in capsys.readouterr().err


def test_real_flags_are_accepted_with_their_defaults():
    args = build_parser().parse_args(
        [
            "--rest_api_timeout_in_ms=100",
            "--load_retry_interval_micros=5",
            "--enable_serialization_as_tensor_content=true",
            "--max_num_load_retries=2",
        ]
    )
    assert args.rest_api_timeout_in_ms == 100 and args.load_retry_interval_micros == 5
    assert args.enable_serialization_as_tensor_content is True
    defaults = build_parser().parse_args([])
    assert defaults.rest_api_timeout_in_ms == 30000  # server.h http_timeout_in_ms
    assert defaults.load_retry_interval_micros == 60_000_000  # 1 minute
    assert defaults.rest_api_port == 0  # REST off unless asked, as main.cc
    assert ModelServer([], port=0).host == "127.0.0.1"  # deliberate: see compat


def test_tensor_content_on_request(repository, helpers):
    server = ModelServer(
        repository.configs()[:1], port=0, rest_api_port=0, tensor_content=True
    ).start()
    try:
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
        import tensorflow as tf

        request = predict_pb2.PredictRequest()
        request.model_spec.name = "single"
        request.inputs["ldr"].CopyFrom(
            tf.make_tensor_proto(helpers.random_ldr(1, 4, 4, 3))
        )
        with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            hdr = stub.Predict(request, timeout=TIMEOUT).outputs["hdr"]
        assert hdr.tensor_content and not hdr.float_val
    finally:
        server.stop(grace=None)


def test_derived_budget_follows_memory_and_model(repository):
    """Without --max_pixels_per_request the budget comes from a probe run."""
    servable = Servable("single", 1, repository.single_path)
    # The input alone is 12 bytes per pixel: the budget can never exceed that.
    assert (
        0 < servable.max_pixels <= budget.MEMORY_FRACTION * budget.memory_bytes() / 12
    )
    # The 2**31-element bound: a model using 4 bytes per pixel per element.
    per_pixel = 64 * 4.0  # 64 float32 channels at full resolution
    assert budget.derive_max_pixels(per_pixel, memory=1 << 50) == (2**31 - 1) // 64
    assert budget.derive_max_pixels(per_pixel, memory=1 << 30) == int(
        0.5 * (1 << 30) / per_pixel
    )


def test_encoded_image_sizes_are_read_from_headers(helpers):
    import cv2

    from serving.server.image_size import encoded_image_size

    pixels = np.zeros((7, 13, 3), np.uint8)
    for ext in (".png", ".jpg"):
        ok, data = cv2.imencode(ext, pixels)
        assert ok and encoded_image_size(data.tobytes()) == (13, 7)
    assert encoded_image_size(b"not an image") is None


def test_budget_counts_encoded_images_before_decoding(repository, helpers):
    import cv2

    server = ModelServer(
        repository.configs()[:1], port=0, rest_api_port=0, max_pixels_per_request=99
    ).start()
    try:
        ok, data = cv2.imencode(".png", np.zeros((10, 10, 3), np.uint8))  # 100 px
        assert ok
        with GrpcClient(f"127.0.0.1:{server.grpc_port}", timeout=TIMEOUT) as client:
            with pytest.raises(ServingError) as caught:
                client.predict(
                    "single",
                    {"images": np.array([data.tobytes()], object)},
                    "serving_bytes",
                )
            assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "at most 99 pixels" in caught.value.message
            small = client.predict("single", {"ldr": helpers.random_ldr(1, 9, 11, 3)})
        assert small["hdr"].shape == (1, 9, 11, 3)
    finally:
        server.stop(grace=None)
