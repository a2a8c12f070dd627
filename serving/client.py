"""Clients of TF Serving (the real one or `serving.server`): gRPC, REST and a CLI.

    client = GrpcClient("127.0.0.1:8500")            # or RestClient("127.0.0.1:8501")
    outputs = client.predict("eilertsen", {"ldr": ldr})  # {"hdr": ..., "tonemapped": ...}
    client.metadata("eilertsen")   # {"name", "version", "signatures": {...}}
    client.status("eilertsen")     # [{"version", "state", "error_code", "error_message"}]

Failures raise `serving.server.errors.ServingError` with the gRPC status code (REST codes
are mapped back from the HTTP status). The gRPC client raises the channel's 4 MiB
default receive limit to `max_message_bytes` (HDR outputs are large).

CLI (prints output shapes and ranges, writes `<output_dir>/<name>.npy`):

    python -m serving.client --server=127.0.0.1:8500 --model=eilertsen \
        --input ldr=photo.png --output_dir=out/
    python -m serving.client --server=127.0.0.1:8501 --rest --model=kalantari \
        --input ldr=a.png,b.png,c.png --input exposure=0,2,4
    python -m serving.client --server=127.0.0.1:8500 --model=eilertsen --metadata
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from serving.server.errors import ServingError

DEFAULT_SIGNATURE = "serving_default"
DEFAULT_MAX_MESSAGE_BYTES = 512 << 20


def _signature_summary(signature_def_map: Mapping) -> dict:
    """SignatureDefMap as JSON -> {signature: {"inputs"|"outputs": {name: info}}}."""

    def tensors(infos: Mapping) -> dict:
        result = {}
        for name, info in infos.items():
            shape = info.get("tensor_shape", {})
            dims = (
                None
                if shape.get("unknown_rank")
                else [int(dim.get("size", 0)) for dim in shape.get("dim", [])]
            )
            result[name] = {"dtype": info.get("dtype", "DT_INVALID"), "shape": dims}
        return result

    return {
        key: {
            "inputs": tensors(value.get("inputs", {})),
            "outputs": tensors(value.get("outputs", {})),
            "method_name": value.get("method_name", ""),
        }
        for key, value in signature_def_map.get("signature_def", {}).items()
    }


def _status_summary(response: Mapping) -> list[dict]:
    return [
        {
            "version": int(entry.get("version", 0)),
            "state": entry.get("state", "UNKNOWN"),
            "error_code": entry.get("status", {}).get("error_code", "OK"),
            "error_message": entry.get("status", {}).get("error_message", ""),
        }
        for entry in response.get("model_version_status", [])
    ]


class GrpcClient:
    """PredictionService / ModelService client over one insecure channel."""

    def __init__(
        self,
        host_port: str,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        timeout: float = 300.0,
    ):
        import grpc
        from tensorflow_serving.apis import (
            model_service_pb2_grpc,
            prediction_service_pb2_grpc,
        )

        self._grpc = grpc
        self.timeout = timeout
        self._channel = grpc.insecure_channel(
            host_port,
            options=[
                ("grpc.max_receive_message_length", int(max_message_bytes)),
                ("grpc.max_send_message_length", int(max_message_bytes)),
            ],
        )
        self._predict = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except self._grpc.RpcError as error:
            raise ServingError(error.code(), error.details() or "") from error

    @staticmethod
    def _spec(spec, model: str, version: int | None, signature: str = "") -> None:
        spec.name = model
        if version is not None:
            spec.version.value = int(version)
        if signature:
            spec.signature_name = signature

    def predict(
        self,
        model: str,
        inputs: Mapping[str, np.ndarray],
        signature: str = DEFAULT_SIGNATURE,
        version: int | None = None,
        output_filter: Sequence[str] = (),
    ) -> dict[str, np.ndarray]:
        from tensorflow_serving.apis import predict_pb2

        from serving.server.tensors import from_tensor_proto, to_tensor_proto

        request = predict_pb2.PredictRequest()
        self._spec(request.model_spec, model, version, signature)
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(to_tensor_proto(value))
        request.output_filter.extend(output_filter)
        response = self._call(self._predict.Predict, request)
        return {name: from_tensor_proto(t) for name, t in response.outputs.items()}

    def metadata(self, model: str, version: int | None = None) -> dict:
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_metadata_pb2

        request = get_model_metadata_pb2.GetModelMetadataRequest()
        self._spec(request.model_spec, model, version)
        request.metadata_field.append("signature_def")
        response = self._call(self._predict.GetModelMetadata, request)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signatures)
        as_json = json_format.MessageToDict(
            signatures, preserving_proto_field_name=True
        )
        return {
            "name": response.model_spec.name,
            "version": int(response.model_spec.version.value),
            "signatures": _signature_summary(as_json),
        }

    def status(self, model: str, version: int | None = None) -> list[dict]:
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_status_pb2

        request = get_model_status_pb2.GetModelStatusRequest()
        self._spec(request.model_spec, model, version)
        response = self._call(self._models.GetModelStatus, request)
        return _status_summary(
            json_format.MessageToDict(
                response,
                preserving_proto_field_name=True,
                always_print_fields_with_no_presence=True,
            )
        )

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "GrpcClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _to_json(array: np.ndarray):
    array = np.asarray(array)
    if array.dtype == object or array.dtype.kind == "S":
        encode = np.vectorize(
            lambda item: {"b64": base64.b64encode(item).decode("ascii")},
            otypes=[object],
        )
        return encode(array).tolist()
    return array.tolist()


class RestClient:
    """TF Serving REST client (urllib only). `base_url`: "http://host:port" or "host:port"."""

    def __init__(self, base_url: str, timeout: float = 300.0):
        if "://" not in base_url:
            base_url = f"http://{base_url}"
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _url(self, model: str, version: int | None, suffix: str = "") -> str:
        url = f"{self.base_url}/v1/models/{model}"
        if version is not None:
            url += f"/versions/{int(version)}"
        return url + suffix

    def _request(self, url: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            url, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                message = json.loads(text).get("error", text)
            except (json.JSONDecodeError, AttributeError):
                message = text
            raise ServingError.from_http(error.code, message) from error

    def predict(
        self,
        model: str,
        inputs: Mapping[str, np.ndarray],
        signature: str = DEFAULT_SIGNATURE,
        version: int | None = None,
        row_format: bool = False,
    ) -> dict[str, np.ndarray]:
        """Sends `inputs` columnar ("inputs") or, with `row_format`, as "instances"."""
        from serving.server.tensors import parse_predict_response

        body: dict = {"signature_name": signature}
        if row_format:
            names = list(inputs)
            count = len(next(iter(inputs.values())))
            body["instances"] = [
                {name: _to_json(inputs[name][i]) for name in names}
                for i in range(count)
            ]
        else:
            body["inputs"] = {name: _to_json(value) for name, value in inputs.items()}
        answer = self._request(self._url(model, version, ":predict"), body)
        return parse_predict_response(answer)

    def metadata(self, model: str, version: int | None = None) -> dict:
        answer = self._request(self._url(model, version, "/metadata"))
        spec = answer.get("model_spec", {})
        return {
            "name": spec.get("name", model),
            "version": int(spec.get("version", 0)),
            "signatures": _signature_summary(
                answer.get("metadata", {}).get("signature_def", {})
            ),
        }

    def status(self, model: str, version: int | None = None) -> list[dict]:
        return _status_summary(self._request(self._url(model, version)))

    def close(self) -> None:
        pass

    def __enter__(self) -> "RestClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _read_input(text: str) -> tuple[str, np.ndarray]:
    """ "name=file.npy", "name=a.png[,b.png...]" (batch of 1) or "name=0,2,4"."""
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise SystemExit(f"--input must look like name=value, got {text!r}")
    parts = value.split(",")
    if len(parts) == 1 and parts[0].endswith(".npy"):
        return name, np.load(parts[0])
    try:
        return name, np.asarray([[float(part) for part in parts]], np.float32)
    except ValueError:
        pass
    from hdr_keras.io import read_image

    images = [read_image(part) for part in parts]
    array = images[0] if len(images) == 1 else np.stack(images)
    return name, array[None].astype(np.float32)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serving.client")
    parser.add_argument("--server", required=True, help="HOST:PORT")
    parser.add_argument("--rest", action="store_true", help="use the REST API")
    parser.add_argument("--model", required=True)
    parser.add_argument("--signature", default=DEFAULT_SIGNATURE)
    parser.add_argument("--version", type=int, default=None)
    parser.add_argument("--input", action="append", default=[], help="name=value")
    parser.add_argument("--output_dir", default="", help="write <name>.npy here")
    parser.add_argument("--metadata", action="store_true")
    parser.add_argument("--status", action="store_true")
    args = parser.parse_args(argv)
    client = RestClient(args.server) if args.rest else GrpcClient(args.server)
    try:
        if args.metadata or args.status:
            call = client.metadata if args.metadata else client.status
            print(json.dumps(call(args.model, args.version), indent=2))
            return 0
        inputs = dict(_read_input(text) for text in args.input)
        outputs = client.predict(args.model, inputs, args.signature, args.version)
    except ServingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        client.close()
    for name, value in sorted(outputs.items()):
        print(
            f"{name}: shape {value.shape} {value.dtype} min {value.min():.4g} "
            f"max {value.max():.4g}"
        )
        if args.output_dir:
            Path(args.output_dir).mkdir(parents=True, exist_ok=True)
            np.save(Path(args.output_dir) / f"{name}.npy", value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
