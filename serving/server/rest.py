"""TF Serving's REST API over a `ModelManager` (standard library HTTP server).

Routes (as tensorflow_model_server; model names and `versions` are matched
case-insensitively in the path prefix, like its `(?i)/v1/...` patterns):

- `POST /v1/models/NAME[/versions/V]:predict` with `{"signature_name": ...,
  "instances": ...}` (row) or `{"inputs": ...}` (columnar); answers
  `{"predictions": ...}` or `{"outputs": ...}` (`serving.server.tensors`).
- `GET /v1/models/NAME[/versions/V]`: GetModelStatusResponse as JSON.
- `GET /v1/models/NAME[/versions/V]/metadata`: {"model_spec", "metadata":
  {"signature_def": SignatureDefMap as JSON}}.

Errors answer `{"error": "<message>"}` with TF Serving's HTTP status for the gRPC
code (`serving.server.errors.HTTP_STATUS`): 400 INVALID_ARGUMENT, 404 NOT_FOUND, ...
Requests run on a bounded thread pool.

Order and wording follow model_servers/http_rest_api_handler.cc and
util/json_tensor.cc: the JSON is parsed first ("JSON Parse error: ..."; nesting too
deep for the parser is a parse error, 400), then the model and version (or
`/labels/LABEL`), the signature (400 `Serving signature name: "x" not found in
signature def`), then the inputs. A run longer than `timeout_seconds`
(`--rest_api_timeout_in_ms`, default 30 s) answers 504 DEADLINE_EXCEEDED; the run
itself cannot be cancelled from Python and finishes in the background.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from http import server as http_server

import grpc
from google.protobuf import json_format

from serving.server.errors import ServingError, invalid_argument
from serving.server.grpc_service import signature_def_map, status_response
from serving.server.manager import ModelManager
from serving.server.servables import DEFAULT_SIGNATURE
from serving.server.tensors import format_predict_response, parse_predict_body

_VERSION = r"(?:/versions/(-?\d+)|/labels/([^/:]+))?"
_PREDICT = re.compile(
    r"(?i)/v1/models/([^/:]+)" + _VERSION + ":(classify|regress|predict)"
)
_STATUS = re.compile(r"(?i)/v1/models(?:/([^/:]+))?" + _VERSION + "(/metadata)?")
_DRAIN_CHUNK = 1 << 20

logger = logging.getLogger(__name__)


class _Handler(http_server.BaseHTTPRequestHandler):
    server_version = "hdr-keras-dev-model-server"
    # Set on the subclass made by `make_http_server`.
    manager: ModelManager
    max_body_bytes: int
    timeout_seconds: float | None
    runner: ThreadPoolExecutor

    def log_message(self, format, *args):  # noqa: A002 (signature of the base)
        logger.debug("%s - %s", self.address_string(), format % args)

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _fail(self, error: ServingError, status: int | None = None) -> None:
        logger.info("REST %s %s failed: %s", self.command, self.path, error)
        self._send(status or error.http_status, {"error": error.message})

    def do_GET(self):
        self._dispatch(self._get)

    def do_POST(self):
        self._dispatch(self._post)

    def _dispatch(self, handler) -> None:
        path = self.path.split("?", 1)[0]
        try:
            if not path.lower().startswith("/v1/"):
                raise ServingError(grpc.StatusCode.NOT_FOUND, f"no route for {path}")
            payload = handler(path)
        except ServingError as error:
            status = 413 if getattr(error, "too_large", False) else None
            self._fail(error, status)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as error:  # never let one request take the server down
            logger.exception("internal error")
            self._fail(ServingError(grpc.StatusCode.INTERNAL, repr(error)))
        else:
            self._send(200, payload)

    def _malformed(self, path: str) -> ServingError:
        return invalid_argument(f"Malformed request: {self.command} {path}")

    def _get(self, path: str) -> dict:
        match = _STATUS.fullmatch(path)
        if not match:
            raise self._malformed(path)
        name, version, label, metadata = match.groups()
        if not name:
            raise invalid_argument("Missing model name in request.")
        version = int(version) if version else None
        if metadata:
            servable = self.manager.get(name, version, label or "")
            signatures = json_format.MessageToDict(
                signature_def_map(servable), preserving_proto_field_name=True
            )
            return {
                "model_spec": {
                    "name": servable.name,
                    "signature_name": "",
                    "version": str(servable.version),
                },
                "metadata": {"signature_def": signatures},
            }
        return json_format.MessageToDict(
            status_response(self.manager, name, version, label or ""),
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        )

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise invalid_argument("a Content-Length header is required") from None
        if length > self.max_body_bytes:
            remaining = min(length, 4 * self.max_body_bytes)
            while remaining > 0:  # drain, so the client can read the answer
                chunk = self.rfile.read(min(_DRAIN_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
            error = ServingError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"request body of {length} bytes exceeds the limit of "
                f"{self.max_body_bytes} bytes",
            )
            error.too_large = True
            self.close_connection = True
            raise error
        return self.rfile.read(length)

    def _post(self, path: str) -> dict:
        match = _PREDICT.fullmatch(path)
        body = self._read_body()
        if not match:
            raise self._malformed(path)
        name, version, label, verb = match.groups()
        if verb.lower() != "predict":
            raise ServingError(
                grpc.StatusCode.UNIMPLEMENTED, f"{verb} is not supported by this server"
            )
        request = parse_json_body(body)
        signature = request.get("signature_name", "")
        if not isinstance(signature, str):
            raise invalid_argument(
                "JSON Value: ... not formatted correctly. 'signature_name' key must "
                "be a string value."
            )
        signature = signature or DEFAULT_SIGNATURE
        servable = self.manager.get(
            name, int(version) if version is not None else None, label or ""
        )
        if signature not in servable.signatures:
            raise invalid_argument(
                f'Serving signature name: "{signature}" not found in signature def'
            )
        specs = servable.input_specs(signature)
        inputs, layout = parse_predict_body(
            request, {key: spec.dtype for key, spec in specs.items()}
        )
        future = self.runner.submit(servable.run, signature, inputs)
        try:
            outputs = future.result(timeout=self.timeout_seconds)
        except concurrent.futures.TimeoutError:
            raise ServingError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"the prediction did not finish within {self.timeout_seconds:g} s "
                "(--rest_api_timeout_in_ms)",
            ) from None
        return format_predict_response(outputs, layout)


def parse_json_body(body: bytes) -> dict:
    """The request object; 400 for anything that is not a JSON object."""
    if not body.strip():
        raise invalid_argument("JSON Parse error: The document is empty")
    try:
        request = json.loads(body)
    except RecursionError:
        raise invalid_argument(
            "JSON Parse error: the document nests deeper than this server parses"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise invalid_argument(
            f"JSON Parse error: {error.msg if hasattr(error, 'msg') else error} "
            f"at offset: {getattr(error, 'pos', 0)}"
        ) from None
    if not isinstance(request, dict):
        raise invalid_argument(
            f"JSON Value: {body[:100].decode('utf-8', 'replace')} Is not object"
        )
    return request


class PooledHTTPServer(http_server.HTTPServer):
    """HTTPServer whose requests run on a fixed-size thread pool."""

    daemon_threads = True

    def __init__(self, address, handler, num_threads: int):
        self.pool = ThreadPoolExecutor(num_threads, thread_name_prefix="rest")
        super().__init__(address, handler)

    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        super().server_bind()

    def process_request(self, request, client_address):
        self.pool.submit(self._process, request, client_address)

    def _process(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self):
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)
        runner = getattr(self, "runner", None)
        if runner is not None:
            runner.shutdown(wait=False, cancel_futures=True)


def make_http_server(
    manager: ModelManager,
    host: str,
    port: int,
    num_threads: int = 8,
    max_body_bytes: int = (1 << 31) - 1,
    timeout_seconds: float | None = 30.0,
) -> PooledHTTPServer:
    """A bound (not yet serving) REST server; call `serve_forever()` on it.

    `timeout_seconds` (None or <= 0: no limit) bounds each prediction (504 after).
    """
    runner = ThreadPoolExecutor(num_threads, thread_name_prefix="rest-run")
    handler = type(
        "RestHandler",
        (_Handler,),
        {
            "manager": manager,
            "max_body_bytes": max_body_bytes,
            "timeout_seconds": (
                timeout_seconds if timeout_seconds and timeout_seconds > 0 else None
            ),
            "runner": runner,
        },
    )
    server = PooledHTTPServer((host, port), handler, num_threads)
    server.runner = runner
    return server
