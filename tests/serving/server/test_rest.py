"""The development server's REST API: TF Serving's JSON formats, codes and routes."""

from __future__ import annotations

import base64
import json
import math
import urllib.error
import urllib.request

import numpy as np
import pytest

from serving.server.servables import model_config
from serving.server.model_server import ModelServer

TIMEOUT = 60.0


def call(url: str, body=None, raw: bytes | None = None) -> tuple[int, dict]:
    data = (
        raw
        if raw is not None
        else (None if body is None else json.dumps(body).encode())
    )
    request = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_predict_row_format_single(repository, rest_url, helpers):
    ldr = helpers.random_ldr(2, 5, 6, 3)
    status, answer = call(
        f"{rest_url}/v1/models/single:predict", {"instances": ldr.tolist()}
    )
    assert status == 200
    expected = repository.expected("single", {"ldr": ldr})
    rows = answer["predictions"]
    assert len(rows) == 2 and sorted(rows[0]) == ["hdr", "tonemapped"]
    for index, row in enumerate(rows):
        np.testing.assert_allclose(row["hdr"], expected["hdr"][index], rtol=1e-6)
        np.testing.assert_allclose(
            row["tonemapped"], expected["tonemapped"][index], rtol=1e-6
        )


def test_predict_columnar_format_stack_with_version(repository, rest_url, helpers):
    ldr = helpers.random_ldr(1, 3, 4, 7, 3)
    exposure = [[0.0, 2.0, 4.0]]
    body = {
        "signature_name": "serving_default",
        "inputs": {"ldr": ldr.tolist(), "exposure": exposure},
    }
    status, answer = call(f"{rest_url}/v1/models/stack/versions/1:predict", body)
    assert status == 200
    expected = repository.expected(
        "stack", {"ldr": ldr, "exposure": np.float32(exposure)}
    )
    assert sorted(answer["outputs"]) == ["hdr", "tonemapped"]
    np.testing.assert_allclose(answer["outputs"]["hdr"], expected["hdr"], rtol=1e-6)


def test_predict_row_format_stack_objects(repository, rest_url, helpers):
    ldr = helpers.random_ldr(2, 2, 3, 4, 3)
    exposure = np.float32([[0, 1], [0, 3]])
    instances = [
        {"ldr": ldr[i].tolist(), "exposure": exposure[i].tolist()} for i in range(2)
    ]
    status, answer = call(
        f"{rest_url}/v1/models/stack:predict", {"instances": instances}
    )
    assert status == 200
    expected = repository.expected("stack", {"ldr": ldr, "exposure": exposure})
    got = np.array([row["hdr"] for row in answer["predictions"]], np.float32)
    np.testing.assert_allclose(got, expected["hdr"], rtol=1e-6)


def test_predict_b64_png_bytes(repository, rest_url, helpers):
    import cv2

    pixels = np.round(helpers.random_ldr(6, 8, 3) * 255).astype(np.uint8)
    encoded = cv2.imencode(".png", pixels[..., ::-1])[1].tobytes()
    body = {
        "signature_name": "serving_bytes",
        "instances": [{"b64": base64.b64encode(encoded).decode()}],
    }
    status, answer = call(f"{rest_url}/v1/models/single:predict", body)
    assert status == 200, answer
    expected = repository.expected(
        "single", {"ldr": (pixels / 255.0).astype(np.float32)[None]}
    )
    np.testing.assert_allclose(
        answer["predictions"][0]["hdr"], expected["hdr"][0], rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    "path, body, raw, code, fragment",
    [
        (
            "single:predict",
            {"instances": [[[math.nan] * 3]]},
            None,
            400,
            "ldr must be rank 4",
        ),
        (
            "single:predict",
            {"instances": [[[[math.nan] * 3]]]},
            None,
            400,
            "NaN or Inf",
        ),
        (
            "single:predict",
            {"inputs": [[[[0.5, 0.5, 0.5]]]], "instances": []},
            None,
            400,
            "expecting only one of 'inputs' or 'instances'",  # json_tensor.cc
        ),
        ("single:predict", None, b"{not json", 400, "JSON Parse error"),
        (
            "single:predict",
            {"instances": [[[[0.1, 0.2]], [[0.1]]]]},
            None,
            400,
            "rectangular",
        ),
        (
            "single:predict",
            {"instances": [[[["a", "b", "c"]]]]},
            None,
            400,
            'JSON Value: "a" Type: String is not of expected type: float',
        ),
        (
            "stack:predict",
            {"inputs": {"ldr": [[[[[0.5] * 3]]] * 2]}},
            None,
            400,
            "Missing named input: exposure in 'inputs' object.",  # json_tensor.cc
        ),
        ("nope:predict", {"instances": [1.0]}, None, 404, "Servable not found"),
        (
            "single/versions/9:predict",
            {"instances": [1.0]},
            None,
            404,
            "Specific(single, 9)",
        ),
        (
            "single:predict",
            {"signature_name": "zz", "instances": [1.0]},
            None,
            400,  # TF Serving: INVALID_ARGUMENT (http_rest_api_handler.cc)
            'Serving signature name: "zz" not found in signature def',
        ),
        ("single:classify", {"examples": []}, None, 501, "not supported"),
    ],
    ids=[
        "rank",
        "nan",
        "both",
        "json",
        "ragged",
        "dtype",
        "missing",
        "model",
        "version",
        "signature",
        "classify",
    ],
)
def test_bad_requests(rest_url, helpers, path, body, raw, code, fragment):
    status, answer = call(f"{rest_url}/v1/models/{path}", body, raw)
    assert status == code
    assert fragment in answer["error"]
    ldr = helpers.random_ldr(1, 3, 3, 3)
    status, _ = call(f"{rest_url}/v1/models/single:predict", {"inputs": ldr.tolist()})
    assert status == 200  # still serving


def test_status_and_metadata(rest_url):
    status, answer = call(f"{rest_url}/v1/models/single")
    assert status == 200
    assert answer == {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }
    status, answer = call(f"{rest_url}/v1/models/stack/versions/1/metadata")
    assert status == 200
    assert answer["model_spec"] == {
        "name": "stack",
        "signature_name": "",
        "version": "1",
    }
    default = answer["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sorted(default["inputs"]) == ["exposure", "ldr"]
    assert default["inputs"]["exposure"]["dtype"] == "DT_FLOAT"
    assert sorted(default["outputs"]) == ["hdr", "tonemapped"]
    assert default["method_name"] == "tensorflow/serving/predict"
    assert call(f"{rest_url}/v1/models/nope")[0] == 404
    assert call(f"{rest_url}/v1/models/single/versions/3")[0] == 404
    assert call(f"{rest_url}/v1/nothing")[0] == 400
    assert call(f"{rest_url}/elsewhere")[0] == 404


def test_oversized_body_is_rejected(repository, helpers):
    server = ModelServer(
        [model_config("single", repository.base / "single")],
        port=0,
        rest_api_port=None,
        max_message_bytes=64 << 10,
    ).start()
    try:
        url = f"http://127.0.0.1:{server.rest_port}/v1/models/single:predict"
        status, answer = call(
            url, {"inputs": helpers.random_ldr(1, 64, 64, 3).tolist()}
        )
        assert status == 413 and "exceeds the limit" in answer["error"]
        status, _ = call(url, {"inputs": helpers.random_ldr(1, 4, 4, 3).tolist()})
        assert status == 200
    finally:
        server.stop(grace=None)
