"""One sender per request row of `serving.server.compat.ROWS`, for the reliability
suite (`test_reliability.py`) against a live server.

Each sender takes a `Live` (stubs, REST URL, the repository's models) and returns
the observed answer's first word: a gRPC code name ("INVALID_ARGUMENT"), "OK", a
REST status ("400"), "typed" for a response in float_val fields, or "connection"
for a connection the server closed. The test compares it with the first word of
the row's documented answer, so the doc and the test cannot drift apart.
"""

from __future__ import annotations

import json
import random
import socket
import urllib.error
import urllib.request
from typing import Callable

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

TIMEOUT = 60.0
MESSAGE_LIMIT = 8 << 20  # the live server's grpc.max_receive_message_length
MAX_PIXELS = 250_000  # the live server's --max_pixels_per_request
PADDED_MIN = 3  # the "padded" model mirror-pads to a multiple of 8 (min 3 x 3)


def request(model="single", inputs=None, signature="", version=None, label=""):
    message = predict_pb2.PredictRequest()
    message.model_spec.name = model
    if signature:
        message.model_spec.signature_name = signature
    if version is not None:
        message.model_spec.version.value = version
    if label:
        message.model_spec.version_label = label
    for name, value in (inputs or {}).items():
        message.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return message


def ldr(*shape, seed=0, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, shape).astype(dtype)


def grpc_code(live, message) -> str:
    try:
        live.predict.Predict(message, timeout=TIMEOUT)
    except grpc.RpcError as error:
        live.last_details = error.details()
        return error.code().name
    return "OK"


def rest(live, path: str, body=None, raw: bytes | None = None) -> str:
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(f"{live.rest_url}/v1/models/{path}", data=data)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as answer:
            live.last_details = answer.read().decode()
            return str(answer.status)
    except urllib.error.HTTPError as error:
        live.last_details = json.loads(error.read()).get("error", "")
        return str(error.code)


def _truncated(live) -> str:
    message = request(inputs={"ldr": ldr(1, 4, 4, 3)})
    proto = message.inputs["ldr"]
    proto.tensor_content = proto.tensor_content[:-8]
    return grpc_code(live, message)


def _order(live) -> str:
    message = request(inputs={"ldr": ldr(1, 4, 4, 3)}, signature="nope")
    message.inputs["ldr"].tensor_content = b"\x00" * 3
    return grpc_code(live, message)


def _float_val(live) -> str:
    response = live.predict.Predict(
        request(inputs={"ldr": ldr(1, 4, 4, 3)}), timeout=TIMEOUT
    )
    hdr = response.outputs["hdr"]
    return "typed" if len(hdr.float_val) == 48 and not hdr.tensor_content else "bytes"


def _garbage(port: int, line: bool = False) -> str:
    """4 KiB of random bytes; `line`: printable ones ending a request line (so an
    HTTP server sees one malformed request and answers it)."""
    rng = random.Random(port)
    if line:
        data = bytes(rng.randint(0x21, 0x7E) for _ in range(4096)) + b"\r\n\r\n"
    else:
        data = bytes(rng.getrandbits(8) for _ in range(4096))
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    if answer.startswith(b"HTTP/1."):
        return answer.split()[1].decode()
    if b"Error code: " in answer:  # an HTTP/0.9-style answer: the body only
        return answer.split(b"Error code: ")[1][:3].decode()
    return "connection"


def _nested(live) -> str:
    depth = 100_000
    return rest(
        live,
        "single:predict",
        raw=b'{"instances": ' + b"[" * depth + b"]" * depth + b"}",
    )


def _too_large(live) -> str:
    return rest(live, "single:predict", raw=b" " * (MESSAGE_LIMIT + 1))


SENDERS: dict[str, Callable] = {
    "rank": lambda live: grpc_code(live, request(inputs={"ldr": ldr(4, 4, 3)})),
    "channels": lambda live: grpc_code(live, request(inputs={"ldr": ldr(1, 4, 4, 4)})),
    "empty": lambda live: grpc_code(live, request(inputs={"ldr": ldr(1, 0, 4, 3)})),
    "nan": lambda live: grpc_code(
        live, request(inputs={"ldr": np.full((1, 4, 4, 3), np.nan, np.float32)})
    ),
    "inf": lambda live: grpc_code(
        live, request(inputs={"ldr": np.full((1, 4, 4, 3), np.inf, np.float32)})
    ),
    "small": lambda live: grpc_code(
        live, request("padded", {"ldr": ldr(1, 1, PADDED_MIN - 1, 3)})
    ),
    "int32": lambda live: grpc_code(
        live, request(inputs={"ldr": np.zeros((1, 4, 4, 3), np.int32)})
    ),
    "float64": lambda live: grpc_code(
        live, request(inputs={"ldr": ldr(1, 4, 4, 3, dtype=np.float64)})
    ),
    "string": lambda live: grpc_code(
        live, request(inputs={"ldr": np.array([b"abc"], object)})
    ),
    "truncated": _truncated,
    "extra_input": lambda live: grpc_code(
        live, request(inputs={"ldr": ldr(1, 4, 4, 3), "x": ldr(1)})
    ),
    "missing_input": lambda live: grpc_code(
        live, request("stack", {"ldr": ldr(1, 3, 4, 4, 3)})
    ),
    "unknown_model": lambda live: grpc_code(
        live, request("nope", {"ldr": ldr(1, 4, 4, 3)})
    ),
    "unknown_version": lambda live: grpc_code(
        live, request(inputs={"ldr": ldr(1, 4, 4, 3)}, version=7)
    ),
    "unknown_label": lambda live: grpc_code(
        live, request(inputs={"ldr": ldr(1, 4, 4, 3)}, label="nope")
    ),
    "label": lambda live: grpc_code(
        live, request(inputs={"ldr": ldr(1, 4, 4, 3)}, label="stable")
    ),
    "unknown_signature": lambda live: grpc_code(
        live, request(inputs={"ldr": ldr(1, 4, 4, 3)}, signature="nope")
    ),
    "empty_spec": lambda live: grpc_code(live, request("", {"ldr": ldr(1, 4, 4, 3)})),
    "order": _order,
    "above_limit": lambda live: grpc_code(
        live, request(inputs={"ldr": ldr(1, 700, 1000, 3)})  # 8.4 MB > 8 MiB
    ),
    "pixels": lambda live: grpc_code(
        live, request(inputs={"ldr": ldr(1, 501, 500, 3)})
    ),
    "float_val": _float_val,
    "grpc_garbage": lambda live: _garbage(live.grpc_port),
    "rest_garbage": lambda live: _garbage(live.rest_port, line=True),
    "rest_json": lambda live: rest(live, "single:predict", raw=b"{not json"),
    "rest_nested": _nested,
    "rest_string": lambda live: rest(
        live, "single:predict", {"instances": [[[["a", 0.5, 0.5]]]]}
    ),
    "rest_null": lambda live: rest(
        live, "single:predict", {"instances": [[[[None, 0.5, 0.5]]]]}
    ),
    "rest_extra_key": lambda live: rest(
        live,
        "single:predict",
        {"inputs": {"ldr": ldr(1, 2, 2, 3).tolist(), "unused": [1, 2]}},
    ),
    "rest_signature": lambda live: rest(
        live, "single:predict", {"signature_name": "nope", "instances": [[[[0.5] * 3]]]}
    ),
    "rest_too_large": _too_large,
    "rest_label": lambda live: rest(
        live, "single/labels/stable:predict", {"instances": ldr(1, 2, 2, 3).tolist()}
    ),
}
# Fragments the answer's message must hold (beyond the code).
FRAGMENTS = {
    "rank": "ldr must be rank 4",
    "small": f"needs at least {PADDED_MIN}x{PADDED_MIN}",
    "truncated": "tensor parsing error: ldr",
    "extra_input": "Sent extra: {x}",
    "missing_input": "Missing but required: {exposure}",
    "unknown_model": "Servable not found for request: Latest(nope)",
    "unknown_label": "Unrecognized servable version label: nope",
    "unknown_signature": 'Serving signature key "nope" not found.',
    "empty_spec": "ModelSpec has no name specified.",
    "above_limit": "larger than max",
    "pixels": f"at most {MAX_PIXELS} pixels per request (--max_pixels_per_request); "
    "predict it in tiles: python -m serving.predict --tile",
    "rest_json": "JSON Parse error",
    "rest_nested": "JSON Parse error",
    "rest_string": 'JSON Value: "a" Type: String is not of expected type: float',
    "rest_null": "JSON Value: null Type: Null is not of expected type: float",
    "rest_signature": 'Serving signature name: "nope" not found in signature def',
}


def _huge_shape(live) -> str:
    """A TensorProto declaring 10^10 exposure values but carrying one."""
    message = request(
        "stack",
        {"ldr": ldr(1, 3, 4, 4, 3), "exposure": np.zeros((1, 3), np.float32)},
    )
    proto = message.inputs["exposure"]
    proto.ClearField("tensor_content")
    proto.float_val.append(0.0)
    proto.tensor_shape.dim[1].size = 10**10
    return grpc_code(live, message)


SENDERS["huge_shape"] = _huge_shape
FRAGMENTS["huge_shape"] = 'input "exposure" declares 10000000000 elements'
