"""The development model server over gRPC: answers, errors, concurrency, hot loading.

Requests are built with the official tensorflow_serving.apis stubs, as a client of
the real tensorflow_model_server would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving.client import GrpcClient
from serving.server.errors import ServingError
from serving.export import export_model
from serving.server.servables import model_config
from serving.server.model_server import ModelServer

REPO_ROOT = Path(__file__).resolve().parents[3]
TIMEOUT = 60.0


def stubs(target: str, max_receive: int = 64 << 20):
    channel = grpc.insecure_channel(
        target, options=[("grpc.max_receive_message_length", max_receive)]
    )
    return (
        channel,
        prediction_service_pb2_grpc.PredictionServiceStub(channel),
        model_service_pb2_grpc.ModelServiceStub(channel),
    )


def predict_request(model: str, inputs: dict, signature: str = "", version=None):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    if signature:
        request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request


def outputs_of(response) -> dict[str, np.ndarray]:
    return {k: tf.make_ndarray(v) for k, v in response.outputs.items()}


def assert_outputs_equal(got: dict, expected: dict) -> None:
    assert sorted(got) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-6, atol=1e-6)


def stack_inputs(batch=1, frames=3, height=9, width=13, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    ldr = rng.uniform(0, 1, (batch, frames, height, width, 3)).astype(np.float32)
    exposure = np.tile(np.arange(frames, dtype=np.float32) * 2.0, (batch, 1))
    return {"ldr": ldr, "exposure": exposure}


def test_predict_single_and_stack_match_local(repository, grpc_target, helpers):
    channel, predict, _ = stubs(grpc_target)
    with channel:
        single = {"ldr": helpers.random_ldr(2, 17, 23, 3)}
        response = predict.Predict(predict_request("single", single), timeout=TIMEOUT)
        assert response.model_spec.name == "single"
        assert response.model_spec.version.value == 1
        assert response.model_spec.signature_name == "serving_default"
        assert_outputs_equal(
            outputs_of(response), repository.expected("single", single)
        )

        stack = stack_inputs(batch=2)
        response = predict.Predict(predict_request("stack", stack), timeout=TIMEOUT)
        assert_outputs_equal(outputs_of(response), repository.expected("stack", stack))

        filtered = predict_request("single", single)
        filtered.output_filter.append("hdr")
        response = predict.Predict(filtered, timeout=TIMEOUT)
        assert list(response.outputs) == ["hdr"]


def test_concurrent_clients_get_local_answers(repository, grpc_target, helpers):
    jobs = []
    for index in range(16):
        if index % 2:
            jobs.append(("stack", stack_inputs(2, 3, 8 + index, 11, seed=index)))
        else:
            jobs.append(
                (
                    "single",
                    {"ldr": helpers.random_ldr(1, 10 + index, 15, 3, seed=index)},
                )
            )
    expected = [repository.expected(name, inputs) for name, inputs in jobs]

    def call(job):
        name, inputs = job
        with GrpcClient(grpc_target, timeout=TIMEOUT) as client:
            return client.predict(name, inputs)

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(call, job) for job in jobs]
        answers = [future.result(timeout=TIMEOUT) for future in futures]
    for got, want in zip(answers, expected):
        assert_outputs_equal(got, want)


BAD_REQUESTS = [
    # (model, inputs, signature, version, code, fragment)
    (
        "single",
        {"ldr": np.zeros((1, 4, 4, 3), np.float64)},
        "",
        None,
        grpc.StatusCode.INVALID_ARGUMENT,
        "must be float32",
    ),
    (
        "single",
        {"ldr": np.zeros((4, 4, 3), np.float32)},
        "",
        None,
        grpc.StatusCode.INVALID_ARGUMENT,
        "ldr must be rank 4",
    ),
    (
        "single",
        {"ldr": np.zeros((1, 4, 4, 4), np.float32)},
        "",
        None,
        grpc.StatusCode.INVALID_ARGUMENT,
        "3 channels",
    ),
    (
        "single",
        {"ldr": np.full((1, 4, 4, 3), np.nan, np.float32)},
        "",
        None,
        grpc.StatusCode.INVALID_ARGUMENT,
        "NaN or Inf",
    ),
    (
        "single",
        {"ldr": np.full((1, 4, 4, 3), 7.0, np.float32)},
        "",
        None,
        grpc.StatusCode.INVALID_ARGUMENT,
        "must lie in [0, 1]",
    ),
    (
        "single",
        {"ldr": np.zeros((1, 0, 4, 3), np.float32)},
        "",
        None,
        grpc.StatusCode.INVALID_ARGUMENT,
        "empty",
    ),
    (
        "single",
        {"ldr": np.zeros((1, 4, 4, 3), np.float32), "x": np.zeros(1)},
        "",
        None,
        grpc.StatusCode.INVALID_ARGUMENT,
        "Sent extra: {x}",
    ),
    (
        "stack",
        {"ldr": np.zeros((1, 3, 4, 4, 3), np.float32)},
        "",
        None,
        grpc.StatusCode.INVALID_ARGUMENT,
        "Missing but required: {exposure}",
    ),
    (
        "stack",
        {
            "ldr": np.zeros((1, 3, 4, 4, 3), np.float32),
            "exposure": np.zeros((1, 2), np.float32),
        },
        "",
        None,
        grpc.StatusCode.INVALID_ARGUMENT,
        "exposure has N=2 values",
    ),
    (
        "single",
        {"images": np.array([b"not an image"], object)},
        "serving_bytes",
        None,
        grpc.StatusCode.INVALID_ARGUMENT,
        "",
    ),
    (
        "nope",
        {"ldr": np.zeros((1, 4, 4, 3), np.float32)},
        "",
        None,
        grpc.StatusCode.NOT_FOUND,
        "Servable not found for request: Latest(nope)",
    ),
    (
        "single",
        {"ldr": np.zeros((1, 4, 4, 3), np.float32)},
        "",
        7,
        grpc.StatusCode.NOT_FOUND,
        "Specific(single, 7)",
    ),
    (
        "single",
        {"ldr": np.zeros((1, 4, 4, 3), np.float32)},
        "missing_signature",
        None,
        # TF Serving: FAILED_PRECONDITION (predict_util.cc), not NOT_FOUND.
        grpc.StatusCode.FAILED_PRECONDITION,
        'signature key "missing_signature" not found',
    ),
]


@pytest.mark.parametrize(
    "model, inputs, signature, version, code, fragment",
    BAD_REQUESTS,
    ids=[
        "dtype",
        "rank",
        "channels",
        "nan",
        "range",
        "empty",
        "extra",
        "missing",
        "frames",
        "bytes",
        "model",
        "version",
        "signature",
    ],
)
def test_bad_requests_get_status_and_server_keeps_serving(
    repository, grpc_target, helpers, model, inputs, signature, version, code, fragment
):
    channel, predict, _ = stubs(grpc_target)
    with channel:
        with pytest.raises(grpc.RpcError) as caught:
            predict.Predict(
                predict_request(model, inputs, signature, version), timeout=TIMEOUT
            )
        assert caught.value.code() == code
        assert fragment in caught.value.details()
        good = {"ldr": helpers.random_ldr(1, 6, 5, 3)}
        response = predict.Predict(predict_request("single", good), timeout=TIMEOUT)
        assert_outputs_equal(outputs_of(response), repository.expected("single", good))


def test_unknown_output_filter_is_invalid(grpc_target):
    channel, predict, _ = stubs(grpc_target)
    with channel:
        request = predict_request("single", {"ldr": np.zeros((1, 4, 4, 3), np.float32)})
        request.output_filter.append("radiance")
        with pytest.raises(grpc.RpcError) as caught:
            predict.Predict(request, timeout=TIMEOUT)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_oversized_messages_are_rejected(repository, helpers):
    server = ModelServer(
        repository.configs()[:1], port=0, rest_api_port=None, max_message_bytes=1 << 20
    ).start()
    try:
        target = f"127.0.0.1:{server.grpc_port}"
        channel, predict, _ = stubs(target)
        with channel:
            big = {"ldr": helpers.random_ldr(1, 320, 320, 3)}  # 1.2 MB > 1 MiB
            with pytest.raises(grpc.RpcError) as caught:
                predict.Predict(predict_request("single", big), timeout=TIMEOUT)
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            small = {"ldr": helpers.random_ldr(1, 8, 8, 3)}
            response = predict.Predict(
                predict_request("single", small), timeout=TIMEOUT
            )
            assert_outputs_equal(
                outputs_of(response), repository.expected("single", small)
            )
        # The client's own receive limit (here 64 KiB) rejects a large answer.
        with GrpcClient(target, max_message_bytes=64 << 10) as client:
            with pytest.raises(ServingError) as caught:
                client.predict("single", {"ldr": helpers.random_ldr(1, 100, 100, 3)})
            assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        server.stop(grace=None)


def test_metadata_lists_signature_inputs_and_outputs(grpc_target):
    channel, predict, _ = stubs(grpc_target)
    with channel:
        request = get_model_metadata_pb2.GetModelMetadataRequest()
        request.model_spec.name = "stack"
        request.metadata_field.append("signature_def")
        response = predict.GetModelMetadata(request, timeout=TIMEOUT)
        assert response.model_spec.name == "stack"
        assert response.model_spec.version.value == 1
        signatures = get_model_metadata_pb2.SignatureDefMap()
        assert response.metadata["signature_def"].Unpack(signatures)
        default = signatures.signature_def["serving_default"]
        assert sorted(default.inputs) == ["exposure", "ldr"]
        assert sorted(default.outputs) == ["hdr", "tonemapped"]
        ldr_dims = [dim.size for dim in default.inputs["ldr"].tensor_shape.dim]
        assert ldr_dims == [-1, -1, -1, -1, 3]
        assert default.inputs["ldr"].dtype == tf.float32.as_datatype_enum
        images = signatures.signature_def["serving_bytes"].inputs["images"]
        assert images.dtype == tf.string.as_datatype_enum

        request.ClearField("metadata_field")
        with pytest.raises(grpc.RpcError) as caught:
            predict.GetModelMetadata(request, timeout=TIMEOUT)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_model_status(grpc_target):
    channel, _, models = stubs(grpc_target)
    with channel:
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = "single"
        response = models.GetModelStatus(request, timeout=TIMEOUT)
        (status,) = response.model_version_status
        assert status.version == 1
        assert status.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
        request.model_spec.name = "nope"
        with pytest.raises(grpc.RpcError) as caught:
            models.GetModelStatus(request, timeout=TIMEOUT)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def wait_for(condition, timeout: float = 30.0, period: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(period)
    raise AssertionError(f"condition not met within {timeout} s")


def test_new_version_is_served_without_restart(tmp_path, helpers):
    base = tmp_path / "hot"
    first, second = helpers.tiny_single_model(seed=5), helpers.tiny_single_model(seed=6)
    export_model(first, base, "single")
    server = ModelServer(
        [model_config("hot", base), model_config("hot_all", base, all=True)],
        port=0,
        rest_api_port=0,
        file_system_poll_wait_seconds=0.1,
    ).start()
    ldr = helpers.random_ldr(1, 7, 9, 3)
    try:
        with GrpcClient(f"127.0.0.1:{server.grpc_port}", timeout=TIMEOUT) as client:
            np.testing.assert_allclose(
                client.predict("hot", {"ldr": ldr})["hdr"],
                first(ldr),
                rtol=1e-4,
                atol=1e-6,
            )
            export_model(second, base, "single")  # version 2, while serving
            wait_for(lambda: client.status("hot")[0]["version"] == 2)
            wait_for(
                lambda: [s["state"] for s in client.status("hot")]
                == ["AVAILABLE", "END"]
            )
            latest = client.predict("hot", {"ldr": ldr})["hdr"]
            np.testing.assert_allclose(latest, second(ldr), rtol=1e-4, atol=1e-6)
            with pytest.raises(ServingError) as caught:
                client.predict("hot", {"ldr": ldr}, version=1)
            assert caught.value.code == grpc.StatusCode.NOT_FOUND
            # The "all" policy keeps version 1 available for explicit requests.
            wait_for(
                lambda: [s["state"] for s in client.status("hot_all")]
                == ["AVAILABLE", "AVAILABLE"]
            )
            old = client.predict("hot_all", {"ldr": ldr}, version=1)["hdr"]
            np.testing.assert_allclose(old, first(ldr), rtol=1e-4, atol=1e-6)
            default = client.predict("hot_all", {"ldr": ldr})["hdr"]
            np.testing.assert_allclose(default, second(ldr), rtol=1e-4, atol=1e-6)
    finally:
        server.stop(grace=None)


def test_broken_version_is_reported_and_previous_one_kept(tmp_path, helpers):
    base = tmp_path / "broken"
    export_model(helpers.tiny_single_model(), base, "single")
    server = ModelServer(
        [model_config("broken", base)],
        port=0,
        rest_api_port=0,
        file_system_poll_wait_seconds=0.1,
        max_num_load_retries=0,
    ).start()
    try:
        with GrpcClient(f"127.0.0.1:{server.grpc_port}", timeout=TIMEOUT) as client:
            hidden = base / ".incoming"
            hidden.mkdir()
            (hidden / "saved_model.pb").write_bytes(b"not a saved model")
            hidden.rename(base / "2")
            wait_for(
                lambda: [s["state"] for s in client.status("broken")]
                == ["END", "AVAILABLE"]
            )
            states = {s["version"]: s for s in client.status("broken")}
            assert states[1]["state"] == "AVAILABLE"
            assert states[2]["state"] == "END"
            assert states[2]["error_code"] != "OK" and states[2]["error_message"]
            outputs = client.predict("broken", {"ldr": helpers.random_ldr(1, 4, 4, 3)})
            assert outputs["hdr"].shape == (1, 4, 4, 3)
            assert client.metadata("broken")["version"] == 1
    finally:
        server.stop(grace=None)


def test_server_cli_serves_a_config_file_and_stops_on_sigterm(repository):
    command = [
        sys.executable,
        "-m",
        "serving.server",
        "--port=0",
        "--rest_api_port=0",
        f"--model_config_file={repository.base / 'models.config'}",
        "--file_system_poll_wait_seconds=1",
        "--grpc_channel_arguments=grpc.max_receive_message_length=8388608",
        f"--batching_parameters_file={repository.base / 'batching.config'}",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = ""
        deadline = time.monotonic() + 90
        while "Running gRPC ModelServer at" not in line:
            assert time.monotonic() < deadline and process.poll() is None, "no start"
            line = process.stdout.readline()
        target = line.split(" at ")[1].split()[0]
        with GrpcClient(target, timeout=TIMEOUT) as client:
            assert client.status("single")[0]["state"] == "AVAILABLE"
            assert "serving_default" in client.metadata("stack")["signatures"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close()


@pytest.mark.slow
def test_real_eilertsen_model_over_grpc_and_rest(tmp_path):
    import keras

    import hdr_keras
    from serving.client import RestClient

    keras.utils.set_random_seed(3)
    model = hdr_keras.build_model("eilertsen")
    export_model(model, tmp_path / "eilertsen", "single")
    server = ModelServer(
        [model_config("eilertsen", tmp_path / "eilertsen")], port=0, rest_api_port=None
    ).start()
    ldr = np.random.default_rng(4).uniform(0, 1, (1, 37, 50, 3)).astype(np.float32)
    expected = model(ldr).numpy()
    try:
        with GrpcClient(f"127.0.0.1:{server.grpc_port}", timeout=TIMEOUT) as client:
            outputs = client.predict("eilertsen", {"ldr": ldr})
        np.testing.assert_allclose(outputs["hdr"], expected, rtol=1e-4, atol=1e-5)
        assert outputs["tonemapped"].shape == ldr.shape
        rest = RestClient(f"127.0.0.1:{server.rest_port}", timeout=TIMEOUT)
        over_rest = rest.predict("eilertsen", {"ldr": ldr})
        np.testing.assert_allclose(over_rest["hdr"], outputs["hdr"], rtol=1e-6)
    finally:
        server.stop(grace=None)


def test_png_bytes_signature_over_grpc(repository, grpc_target, helpers):
    import cv2

    ldr = helpers.random_ldr(12, 10, 3)
    pixels = np.round(ldr * 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".png", pixels[..., ::-1])
    assert ok
    with GrpcClient(grpc_target, timeout=TIMEOUT) as client:
        from_bytes = client.predict(
            "single", {"images": np.array([encoded.tobytes()], object)}, "serving_bytes"
        )
        from_floats = client.predict(
            "single", {"ldr": (pixels / 255.0).astype(np.float32)[None]}
        )
    np.testing.assert_allclose(
        from_bytes["hdr"], from_floats["hdr"], rtol=1e-5, atol=1e-6
    )
