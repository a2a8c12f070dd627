"""TF Serving's gRPC API over a `ModelManager`, with the official stubs.

`PredictionService`: Predict and GetModelMetadata (Classify, Regress and
MultiInference answer UNIMPLEMENTED, as the generated base class does).
`ModelService`: GetModelStatus and HandleReloadConfigRequest.
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
from serving.server.servables import DEFAULT_SIGNATURE, ModelManager, Servable
from serving.server.tensors import from_tensor_proto, to_tensor_proto

SIGNATURE_DEF_FIELD = "signature_def"

logger = logging.getLogger(__name__)


def _version(model_spec) -> int | None:
    if model_spec.HasField("version"):
        return int(model_spec.version.value)
    if model_spec.version_label:
        raise invalid_argument("version labels are not supported by this server")
    return None


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
    def __init__(self, manager: ModelManager):
        self.manager = manager

    @_handle
    def Predict(self, request, context):
        spec = request.model_spec
        signature = spec.signature_name or DEFAULT_SIGNATURE
        try:
            inputs = {k: from_tensor_proto(v) for k, v in request.inputs.items()}
        except Exception as error:
            raise invalid_argument(f"cannot read the input tensors: {error}") from None
        servable, outputs = self.manager.predict(
            spec.name, _version(spec), signature, inputs, request.output_filter
        )
        response = predict_pb2.PredictResponse()
        fill_model_spec(response.model_spec, servable, signature)
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(to_tensor_proto(value))
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
        servable = self.manager.get(
            request.model_spec.name, _version(request.model_spec)
        )
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        fill_model_spec(response.model_spec, servable)
        response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_def_map(servable))
        return response


def status_response(
    manager: ModelManager, name: str, version: int | None
) -> get_model_status_pb2.GetModelStatusResponse:
    response = get_model_status_pb2.GetModelStatusResponse()
    for number, state, code, message in manager.status(name, version):
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
        spec = request.model_spec
        if not spec.name:
            raise invalid_argument("Missing model name in request.")
        return status_response(self.manager, spec.name, _version(spec))

    @_handle
    def HandleReloadConfigRequest(self, request, context):
        config = request.config
        if config.WhichOneof("config") != "model_config_list":
            raise invalid_argument("only a model_config_list can be reloaded")
        self.manager.set_configs(config.model_config_list.config)
        self.manager.poll()
        return model_management_pb2.ReloadConfigResponse()


def add_services(server: grpc.Server, manager: ModelManager) -> None:
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(manager), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(
        ModelService(manager), server
    )
