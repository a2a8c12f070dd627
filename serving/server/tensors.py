"""Tensor conversions shared by the server and the clients.

- gRPC: numpy <-> `TensorProto` (`tf.make_tensor_proto` / `tf.make_ndarray`, which
  read both `tensor_content` and the typed `*_val` fields that TF Serving writes).
- REST: JSON values <-> numpy, following TF Serving's REST API: request tensors in
  row format (`instances`) or columnar format (`inputs`), answers in `predictions`
  or `outputs`; binary strings as `{"b64": "..."}`; `NaN`/`Infinity` tokens allowed
  (Python's `json` reads and writes them).

TensorFlow is imported only by the functions that need it, so that the REST client
runs without it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Mapping

import numpy as np

from serving.server.errors import invalid_argument

ROW, COLUMNAR = "row", "columnar"


def to_tensor_proto(array) -> Any:
    """numpy array (numbers, bool, or bytes/str objects) -> TensorProto."""
    import tensorflow as tf

    array = np.asarray(array)
    if array.dtype.kind == "U":
        array = np.vectorize(lambda s: s.encode("utf-8"), otypes=[object])(array)
    return tf.make_tensor_proto(array)


def to_tensor_proto_fields(array) -> Any:
    """numpy array -> TensorProto with the typed `*_val` fields, as TF Serving's
    predict responses by default (predict_util.cc, `Tensor::AsProtoField`)."""
    import tensorflow as tf
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2

    array = np.asarray(array)
    if array.dtype.kind == "U":
        array = np.vectorize(lambda s: s.encode("utf-8"), otypes=[object])(array)
    dtype = tf.as_dtype(array.dtype if array.dtype != object else tf.string)
    proto = tensor_pb2.TensorProto(
        dtype=dtype.as_datatype_enum,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=n) for n in array.shape]
        ),
    )
    flat = array.ravel()
    field = _TYPED_FIELDS.get(dtype.name)
    if field is None:  # dtypes without a simple typed field
        return tf.make_tensor_proto(array)
    if field == "string_val":
        proto.string_val.extend(flat.tolist())
    elif field == "half_val":
        proto.half_val.extend(flat.view(np.uint16).tolist())
    else:
        getattr(proto, field).extend(flat.tolist())
    return proto


_TYPED_FIELDS = {
    "float32": "float_val",
    "float64": "double_val",
    "float16": "half_val",
    "int32": "int_val",
    "int16": "int_val",
    "int8": "int_val",
    "uint8": "int_val",
    "uint16": "int_val",
    "int64": "int64_val",
    "uint32": "uint32_val",
    "uint64": "uint64_val",
    "bool": "bool_val",
    "string": "string_val",
}


def from_tensor_proto(proto) -> np.ndarray:
    """TensorProto -> numpy array (strings come back as an object array of bytes)."""
    import tensorflow as tf

    return tf.make_ndarray(proto)


def _decode_strings(value, name: str):
    """Nested JSON strings / {"b64": ...} objects -> nested bytes."""
    if isinstance(value, list):
        return [_decode_strings(item, name) for item in value]
    if isinstance(value, dict):
        if set(value) != {"b64"} or not isinstance(value["b64"], str):
            raise invalid_argument(
                f'input "{name}": a binary value must be {{"b64": "<base64>"}}, '
                f"got an object with keys {sorted(value)}"
            )
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (binascii.Error, ValueError) as error:
            raise invalid_argument(
                f'input "{name}": invalid base64 data ({error})'
            ) from None
    if isinstance(value, str):
        return value.encode("utf-8")
    raise invalid_argument(
        f'input "{name}" is a string tensor: expected strings or {{"b64": ...}}, '
        f"got {type(value).__name__}"
    )


def json_to_array(value, dtype, name: str) -> np.ndarray:
    """A JSON value (nested lists) -> numpy array of `dtype` (a tf.DType)."""
    if dtype.name == "string":
        decoded = _decode_strings(value, name)
        array = np.empty(np.shape(decoded) if isinstance(decoded, list) else (), object)
        try:
            array[...] = decoded
        except ValueError:
            raise invalid_argument(
                f'input "{name}": nested lists of strings are not rectangular'
            ) from None
        return array
    bad = _first_wrong_leaf(value, dtype)
    if bad:
        raise json_type_error(bad[0], dtype)
    try:
        array = np.asarray(value, dtype=dtype.as_numpy_dtype)
    except (ValueError, TypeError, OverflowError) as error:
        raise invalid_argument(
            f'input "{name}" cannot be read as a rectangular {dtype.name} tensor: '
            f"{error}"
        ) from None
    return array


def _json_type_name(value) -> str:
    """rapidjson's type names, as json_tensor.cc's JsonTypeString prints them."""
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def json_type_error(value, dtype):
    """INVALID_ARGUMENT worded as json_tensor.cc's TypeError."""
    import json

    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > 200:
        text = text[:200] + "..."
    return invalid_argument(
        f"JSON Value: {text} Type: {_json_type_name(value)} is not of expected "
        f"type: {dtype.name if dtype.name != 'float32' else 'float'}"
    )


def _first_wrong_leaf(value, dtype):
    """(the first leaf that is not a number for a numeric dtype,), or () if none.

    Fast path: numpy reads a list of numbers as a numeric array; only when it does
    not (strings, null, booleans, objects) are the leaves walked.
    """
    try:
        probe = np.asarray(value)
    except (ValueError, TypeError, RecursionError):
        probe = None
    want_bool = dtype.name == "bool"
    if probe is not None and probe.dtype.kind in ("b" if want_bool else "iuf"):
        return ()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif want_bool:
            if not isinstance(item, bool):
                return (item,)
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            return (item,)
    return ()


def _is_b64(value) -> bool:
    return isinstance(value, dict) and set(value) == {"b64"}


def parse_predict_body(
    body, input_dtypes: Mapping
) -> tuple[dict[str, np.ndarray], str]:
    """TF Serving REST predict body -> (inputs by name, ROW or COLUMNAR).

    Args:
        body: the decoded JSON object.
        input_dtypes: the signature's input names -> tf.DType (used to convert, and to
            name the tensor when the signature has a single input).
    """
    if not isinstance(body, dict):
        raise invalid_argument("the request body must be a JSON object")
    has_rows, has_columns = "instances" in body, "inputs" in body
    if has_rows and has_columns:
        raise invalid_argument(
            "Not formatted correctly expecting only one of 'inputs' or 'instances' "
            "keys to exist"
        )
    if not has_rows and not has_columns:
        raise invalid_argument("Missing 'inputs' or 'instances' key")
    import tensorflow as tf

    single = next(iter(input_dtypes)) if len(input_dtypes) == 1 else None

    def dtype_of(name: str):
        # Unknown names are reported by the model manager with the full picture.
        return input_dtypes.get(name, tf.float32)

    if has_columns:
        # json_tensor.cc, FillTensorMapFromInputsMap: the signature's inputs are
        # looked up by name; other keys are ignored.
        value = body["inputs"]
        if isinstance(value, dict) and not _is_b64(value):
            for name in input_dtypes:
                if name not in value:
                    raise invalid_argument(
                        f"Missing named input: {name} in 'inputs' object."
                    )
            named = {name: value[name] for name in input_dtypes}
        elif single is not None:
            named = {single: value}
        else:
            raise invalid_argument(
                "inputs is a plain value/list, but expecting an object as multiple "
                "input tensors required as per tensorinfo_map"
            )
        arrays = {
            name: json_to_array(v, dtype_of(name), name) for name, v in named.items()
        }
        return arrays, COLUMNAR

    rows = body["instances"]
    if not isinstance(rows, list) or not rows:
        raise invalid_argument("'instances' must be a non-empty list")
    if all(isinstance(row, dict) and not _is_b64(row) for row in rows):
        names = set(rows[0])
        for index, row in enumerate(rows):
            if set(row) != names:
                raise invalid_argument(
                    f"instance {index} has inputs {sorted(row)} but instance 0 has "
                    f"{sorted(names)}: every instance must name the same inputs"
                )
        arrays = {}
        for name in sorted(names):
            items = [json_to_array(row[name], dtype_of(name), name) for row in rows]
            shapes = {item.shape for item in items}
            if len(shapes) > 1:
                raise invalid_argument(
                    f'input "{name}" has different shapes across instances: '
                    f"{sorted(shapes)}"
                )
            arrays[name] = np.stack(items)
        return arrays, ROW
    if single is None:
        raise invalid_argument(
            "each instance must be an object of named tensors: the signature has "
            f"inputs {sorted(input_dtypes)}"
        )
    return {single: json_to_array(rows, dtype_of(single), single)}, ROW


def array_to_json(array: np.ndarray, name: str):
    """numpy -> JSON value; string tensors named `*_bytes` become {"b64": ...}."""
    if array.dtype == object or array.dtype.kind in "SU":

        def encode(item):
            if isinstance(item, str):
                return item
            if name.endswith("_bytes"):
                return {"b64": base64.b64encode(item).decode("ascii")}
            try:
                return item.decode("utf-8")
            except UnicodeDecodeError:
                return {"b64": base64.b64encode(item).decode("ascii")}

        return np.vectorize(encode, otypes=[object])(array).tolist()
    return array.tolist()


def format_predict_response(outputs: Mapping[str, np.ndarray], layout: str) -> dict:
    """Outputs -> {"outputs": ...} (COLUMNAR) or {"predictions": [...]} (ROW).

    With a single output its name is omitted, as TF Serving does.
    """
    names = sorted(outputs)
    if layout == COLUMNAR:
        if len(names) == 1:
            return {"outputs": array_to_json(outputs[names[0]], names[0])}
        return {"outputs": {name: array_to_json(outputs[name], name) for name in names}}
    batch = {name: (outputs[name].shape or (None,))[0] for name in names}
    if len(set(batch.values())) != 1 or None in batch.values():
        raise invalid_argument(
            "the outputs do not share one batch size, so they cannot be returned as "
            f"rows ('predictions'); use 'inputs' (columnar) instead. Sizes: {batch}"
        )
    if len(names) == 1:
        return {"predictions": array_to_json(outputs[names[0]], names[0])}
    count = next(iter(batch.values()))
    columns = {name: array_to_json(outputs[name], name) for name in names}
    return {
        "predictions": [
            {name: columns[name][index] for name in names} for index in range(count)
        ]
    }


def parse_predict_response(body: Mapping) -> dict[str, np.ndarray]:
    """A REST predict answer -> outputs by name (float32 for numbers).

    A single unnamed output (TF Serving omits the name then) is returned under the
    key "output".
    """
    if "outputs" in body:
        value = body["outputs"]
        named = value if isinstance(value, dict) and not _is_b64(value) else None
        if named is None:
            return {"output": _json_output(value)}
        return {name: _json_output(v) for name, v in named.items()}
    rows = body.get("predictions")
    if not isinstance(rows, list):
        raise ValueError("the answer has neither 'outputs' nor 'predictions'")
    if rows and all(isinstance(row, dict) and not _is_b64(row) for row in rows):
        return {
            name: np.stack([_json_output(row[name]) for row in rows])
            for name in rows[0]
        }
    return {"output": _json_output(rows)}


def _json_output(value) -> np.ndarray:
    def has_strings(item) -> bool:
        if isinstance(item, list):
            return any(has_strings(x) for x in item)
        return isinstance(item, (str, dict))

    if has_strings(value):

        def decode(item):
            if isinstance(item, list):
                return [decode(x) for x in item]
            if _is_b64(item):
                return base64.b64decode(item["b64"])
            return item.encode("utf-8") if isinstance(item, str) else item

        decoded = decode(value)
        array = np.empty(np.shape(decoded) if isinstance(decoded, list) else (), object)
        array[...] = decoded
        return array
    array = np.asarray(value)
    return array.astype(np.float32) if array.dtype == np.float64 else array
