"""TF Serving's gRPC API over a `ModelManager`, with the official stubs.

`PredictionService`: Predict and GetModelMetadata (Classify, Regress and
MultiInference answer UNIMPLEMENTED, as the generated base class does).
`ModelService`: GetModelStatus and HandleReloadConfigRequest.

Predict checks in TF Serving's order (model_servers/server_core.cc, then
servables/tensorflow/predict_util.cc): model name, model and version (or label),
signature (FAILED_PRECONDITION), input names, then the pixel budget read from the
TensorProto shapes (`serving.server.budget`), then the tensors are decoded
("tensor parsing error: NAME", as saved_model::GetInputValues) and run. Outputs are
written in the typed `*_val` fields unless `tensor_content` is asked for
(`--enable_serialization_as_tensor_content`, as predict_util.cc's
`PredictResponseTensorSerializationOption`).
"""

from __future__ import annotations

import logging
from typing import Callable

import grpc
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving.server.errors import ServingError, invalid_argument
from serving.server.manager import ModelManager
from serving.server.servables import DEFAULT_SIGNATURE, Servable
from serving.server.tensors import (
    from_tensor_proto,
    to_tensor_proto,
    to_tensor_proto_fields,
)

SIGNATURE_DEF_FIELD = "signature_def"

logger = logging.getLogger(__name__)


def _version(model_spec) -> int | None:
    if model_spec.HasField("version"):
        return int(model_spec.version.value)
    return None


def get_servable(manager: ModelManager, model_spec) -> Servable:
    return manager.get(model_spec.name, _version(model_spec), model_spec.version_label)


def _proto_shape(proto) -> list[int]:
    return [int(dim.size) for dim in proto.tensor_shape.dim]


def _abort(context, error: ServingError):
    logger.info("request failed: %s", error)
    context.abort(error.code, error.message)


def _handle(method: Callable):
    """Turns ServingError into the call's status; other errors into INTERNAL."""

    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except ServingError as error:
            _abort(context, error)
        except Exception as error:  # never let one request take the server down
            logger.exception("internal error")
            context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def signature_def_map(servable: Servable) -> get_model_metadata_pb2.SignatureDefMap:
    result = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in servable.signature_defs.items():
        result.signature_def[key].CopyFrom(signature)
    return result


def fill_model_spec(model_spec, servable: Servable, signature: str = "") -> None:
    model_spec.name = servable.name
    model_spec.version.value = servable.version
    if signature:
        model_spec.signature_name = signature


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, manager: ModelManager, tensor_content: bool = False):
        self.manager = manager
        self.tensor_content = tensor_content

    @_handle
    def Predict(self, request, context):
        spec = request.model_spec
        servable = get_servable(self.manager, spec)
        signature = spec.signature_name or DEFAULT_SIGNATURE
        servable.check_signature(signature)
        servable.check_input_names(signature, request.inputs.keys())
        servable.check_budget(
            signature,
            {k: _proto_shape(v) for k, v in request.inputs.items()},
            {k: (lambda v=v: list(v.string_val)) for k, v in request.inputs.items()},
        )
        inputs = {}
        for name, proto in request.inputs.items():
            try:
                inputs[name] = from_tensor_proto(proto)
            except Exception:  # truncated content, bad dtype, shape mismatch
                raise invalid_argument(f"tensor parsing error: {name}") from None
        outputs = servable.run(signature, inputs, request.output_filter)
        response = predict_pb2.PredictResponse()
        fill_model_spec(response.model_spec, servable, signature)
        encode = to_tensor_proto if self.tensor_content else to_tensor_proto_fields
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(encode(value))
        return response

    @_handle
    def GetModelMetadata(self, request, context):
        fields = list(request.metadata_field)
        if not fields:
            raise invalid_argument(
                "GetModelMetadataRequest must specify at least one metadata_field"
            )
        unsupported = [field for field in fields if field != SIGNATURE_DEF_FIELD]
        if unsupported:
            raise invalid_argument(f"Metadata field {unsupported[0]} is not supported")
        servable = get_servable(self.manager, request.model_spec)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        fill_model_spec(response.model_spec, servable)
        response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_def_map(servable))
        return response


def status_response(
    manager: ModelManager, name: str, version: int | None, label: str = ""
) -> get_model_status_pb2.GetModelStatusResponse:
    response = get_model_status_pb2.GetModelStatusResponse()
    for number, state, code, message in manager.status(name, version, label):
        entry = response.model_version_status.add()
        entry.version = number
        entry.state = state
        entry.status.error_code = code.value[0]
        entry.status.error_message = message
    return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, manager: ModelManager):
        self.manager = manager

    @_handle
    def GetModelStatus(self, request, context):
        if not request.HasField("model_spec"):
            raise invalid_argument("Missing ModelSpec")
        spec = request.model_spec
        return status_response(
            self.manager, spec.name, _version(spec), spec.version_label
        )

    @_handle
    def HandleReloadConfigRequest(self, request, context):
        config = request.config
        if config.WhichOneof("config") != "model_config_list":
            raise invalid_argument("only a model_config_list can be reloaded")
        self.manager.set_configs(config.model_config_list.config)
        self.manager.poll()
        return model_management_pb2.ReloadConfigResponse()


def add_services(
    server: grpc.Server, manager: ModelManager, tensor_content: bool = False
) -> None:
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(manager, tensor_content), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(
        ModelService(manager), server
    )
