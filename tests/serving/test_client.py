"""serving.client: the gRPC and REST clients agree, raise ServingError, and the CLI."""

from __future__ import annotations

import json

import grpc
import numpy as np
import pytest

from serving import client as client_module
from serving.client import GrpcClient, RestClient
from serving.server.errors import ServingError


@pytest.fixture
def clients(grpc_target, rest_url):
    with GrpcClient(grpc_target) as over_grpc, RestClient(rest_url) as over_rest:
        yield over_grpc, over_rest


def test_predict_same_answers_over_grpc_and_rest(repository, clients, helpers):
    over_grpc, over_rest = clients
    single = {"ldr": helpers.random_ldr(2, 6, 9, 3)}
    stack = {
        "ldr": helpers.random_ldr(1, 3, 5, 4, 3),
        "exposure": np.float32([[0, 2, 4]]),
    }
    for name, inputs in (("single", single), ("stack", stack)):
        expected = repository.expected(name, inputs)
        answers = [
            over_grpc.predict(name, inputs),
            over_rest.predict(name, inputs),
            over_rest.predict(name, inputs, row_format=True),
            over_grpc.predict(name, inputs, version=1),
        ]
        for answer in answers:
            assert sorted(answer) == ["hdr", "tonemapped"]
            for key in expected:
                assert answer[key].dtype == np.float32
                np.testing.assert_allclose(answer[key], expected[key], rtol=1e-6)


def test_metadata_and_status_agree(clients):
    over_grpc, over_rest = clients
    for name in ("single", "stack"):
        assert over_grpc.metadata(name) == over_rest.metadata(name)
        assert over_grpc.status(name) == over_rest.status(name)
    metadata = over_grpc.metadata("single")
    assert metadata["name"] == "single" and metadata["version"] == 1
    default = metadata["signatures"]["serving_default"]
    assert default["inputs"] == {"ldr": {"dtype": "DT_FLOAT", "shape": [-1, -1, -1, 3]}}
    assert sorted(default["outputs"]) == ["hdr", "tonemapped"]
    assert over_rest.status("stack") == [
        {"version": 1, "state": "AVAILABLE", "error_code": "OK", "error_message": ""}
    ]


@pytest.mark.parametrize("which", [0, 1], ids=["grpc", "rest"])
def test_errors_carry_status_codes(clients, which):
    client = clients[which]
    with pytest.raises(ServingError) as caught:
        client.predict("nope", {"ldr": np.zeros((1, 2, 2, 3), np.float32)})
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(ServingError) as caught:
        client.predict("single", {"ldr": np.zeros((2, 2, 3), np.float32)})
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "rank 4" in caught.value.message
    with pytest.raises(ServingError) as caught:
        client.status("nope")
    assert caught.value.code == grpc.StatusCode.NOT_FOUND


def test_cli_predict_metadata_and_errors(
    repository, grpc_target, rest_url, tmp_path, helpers, capsys
):
    ldr = helpers.random_ldr(1, 5, 5, 3)
    np.save(tmp_path / "ldr.npy", ldr)
    out = tmp_path / "out"
    code = client_module.main(
        [
            f"--server={grpc_target}",
            "--model=single",
            f"--input=ldr={tmp_path / 'ldr.npy'}",
            f"--output_dir={out}",
        ]
    )
    assert code == 0
    expected = repository.expected("single", {"ldr": ldr})
    np.testing.assert_allclose(np.load(out / "hdr.npy"), expected["hdr"], rtol=1e-6)
    assert "hdr: shape (1, 5, 5, 3)" in capsys.readouterr().out

    stack_ldr = helpers.random_ldr(1, 2, 4, 4, 3)
    np.save(tmp_path / "stack.npy", stack_ldr)
    code = client_module.main(
        [
            f"--server={rest_url.split('//')[1]}",
            "--rest",
            "--model=stack",
            f"--input=ldr={tmp_path / 'stack.npy'}",
            "--input=exposure=0,2",
        ]
    )
    assert code == 0
    capsys.readouterr()

    assert (
        client_module.main([f"--server={grpc_target}", "--model=stack", "--metadata"])
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert "serving_bytes" in printed["signatures"]

    assert (
        client_module.main([f"--server={grpc_target}", "--model=nope", "--status"]) == 1
    )
    assert "NOT_FOUND" in capsys.readouterr().err
