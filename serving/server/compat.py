"""The compatibility table: each request class, TF Serving's answer and ours.

TF Serving's answers were read from its sources (github.com/tensorflow/serving,
commit 9d981c5, 2026-07-30); `source` names the file. The rows are checked by the
tests that send those requests: `tests/serving/server/test_reliability.py` sends
every `kind == "request"` row to a live server and asserts our answer; the other
rows name the test that checks them (`checked_by`). `python -m
serving.server.compat` renders the table into docs/serving.md between the markers
below, and `tests/serving/server/test_compat_doc.py` fails when the doc is stale.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

BEGIN = "<!-- compat-table:begin (python -m serving.server.compat) -->"
END = "<!-- compat-table:end -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "serving.md"
RELIABILITY = "test_reliability.py::test_bad_request_then_good_request"


@dataclasses.dataclass(frozen=True)
class Row:
    """One request class.

    `tf_serving` / `ours`: "gRPC CODE" and/or "REST status", plus a message
    fragment; `ours` empty means the same as TF Serving. `why`: the reason of a
    deliberate difference.
    """

    id: str
    request: str
    tf_serving: str
    source: str
    ours: str = ""
    why: str = ""
    kind: str = "request"
    checked_by: str = RELIABILITY


PU = "servables/tensorflow/predict_util.cc"
SC = "model_servers/server_core.cc"
JT = "util/json_tensor.cc"
RH = "model_servers/http_rest_api_handler.cc"
HS = "model_servers/http_server.cc"
BM = "core/basic_manager.cc"
FS = "sources/storage_path/file_system_storage_path_source.cc"
MAIN = "model_servers/main.cc"
SRV = "model_servers/server.cc, server.h"
SIG = "(hdr-keras signature validation, in the SavedModel)"
GRPC_LIMIT = "gRPC core (max_receive_message_length)"

ROWS = [
    Row("rank", "gRPC: `ldr` of rank 3", "INVALID_ARGUMENT `ldr must be rank 4`", SIG),
    Row(
        "channels",
        "gRPC: 4 channels",
        "INVALID_ARGUMENT `ldr must have 3 channels`",
        SIG,
    ),
    Row("empty", "gRPC: a 0-pixel image", "INVALID_ARGUMENT `ldr is empty`", SIG),
    Row("nan", "gRPC: NaN values", "INVALID_ARGUMENT `ldr contains NaN or Inf`", SIG),
    Row("inf", "gRPC: Inf values", "INVALID_ARGUMENT `ldr contains NaN or Inf`", SIG),
    Row(
        "small",
        "gRPC: an image smaller than the network's minimum (1x2)",
        "INVALID_ARGUMENT `ldr is [1 2] [height width] pixels but this model needs "
        "at least NxN`",
        SIG,
    ),
    Row(
        "int32",
        "gRPC: int32 tensor",
        "INVALID_ARGUMENT `Expects arg[0] to be float but int32 is provided`",
        "Session::Run (via " + PU + ")",
        'INVALID_ARGUMENT `input "ldr" must be float32 (DT_FLOAT), got int32`',
        "checked before the run; same code",
    ),
    Row(
        "float64",
        "gRPC: float64 tensor",
        "INVALID_ARGUMENT `Expects arg[0] to be float but double is provided`",
        "Session::Run (via " + PU + ")",
        "INVALID_ARGUMENT `... must be float32 (DT_FLOAT), got float64`",
        "checked before the run; same code",
    ),
    Row(
        "string",
        "gRPC: string tensor for `ldr`",
        "INVALID_ARGUMENT (dtype mismatch)",
        "Session::Run (via " + PU + ")",
        "INVALID_ARGUMENT `... must be float32 (DT_FLOAT), got string`",
        "checked before the run; same code",
    ),
    Row(
        "truncated",
        "gRPC: tensor_content shorter than the shape",
        "INVALID_ARGUMENT `tensor parsing error: ldr`",
        PU + " (saved_model::GetInputValues)",
    ),
    Row(
        "extra_input",
        "gRPC: an input the signature lacks",
        "INVALID_ARGUMENT `input size does not match signature ... Sent extra: {x}`",
        PU,
    ),
    Row(
        "missing_input",
        "gRPC: a required input missing",
        "INVALID_ARGUMENT `... Missing but required: {exposure}`",
        PU,
    ),
    Row(
        "unknown_model",
        "gRPC: unknown model",
        "NOT_FOUND `Servable not found for request: Latest(nope)`",
        BM,
    ),
    Row(
        "unknown_version",
        "gRPC: unknown version",
        "NOT_FOUND `Servable not found for request: Specific(single, 7)`",
        BM,
    ),
    Row(
        "unknown_label",
        "gRPC: unknown version label",
        "INVALID_ARGUMENT `Unrecognized servable version label: nope`",
        SC,
    ),
    Row(
        "label",
        "gRPC: version label from models.config",
        "OK (the labelled version)",
        SC,
    ),
    Row(
        "unknown_signature",
        "gRPC: unknown signature",
        'FAILED_PRECONDITION `Serving signature key "nope" not found.`',
        PU,
    ),
    Row(
        "empty_spec",
        "gRPC: empty model_spec / model name",
        "INVALID_ARGUMENT `ModelSpec has no name specified.`",
        SC,
    ),
    Row(
        "order",
        "gRPC: unknown signature and a truncated tensor",
        "FAILED_PRECONDITION (model, version, signature, then inputs)",
        SC + ", " + PU,
    ),
    Row(
        "above_limit",
        "gRPC: a message just above the receive limit",
        "RESOURCE_EXHAUSTED `Received message larger than max`",
        GRPC_LIMIT,
    ),
    Row(
        "pixels",
        "gRPC / REST: more pixels than the model can run",
        "none: the request runs, and can crash the process (1x9000x9000x3 "
        "segfaulted TensorFlow inside eilertsen)",
        PU,
        "RESOURCE_EXHAUSTED / 429 `... at most N pixels per request "
        "(--max_pixels_per_request); ... serving.predict --tile` before any TF op",
        "a development server must survive every request",
    ),
    Row(
        "huge_shape",
        "gRPC: a TensorProto declaring 10^10 values but carrying one",
        "none: Tensor::FromProto expands it in memory",
        "tensorflow/core/framework/tensor.cc (via " + PU + ")",
        'RESOURCE_EXHAUSTED `input "exposure" declares 10000000000 elements`',
        "a development server must survive every request",
    ),
    Row(
        "float_val",
        "gRPC: answer encoding",
        "typed `float_val` (tensor_content with "
        "`--enable_serialization_as_tensor_content`)",
        PU + ", " + MAIN,
    ),
    Row(
        "grpc_garbage",
        "random bytes on the gRPC port",
        "connection closed by gRPC; server keeps serving",
        "gRPC core",
    ),
    Row(
        "rest_garbage",
        "random bytes as a request line on the REST port",
        "400 (malformed request line); server keeps serving",
        "util/net_http (libevent)",
    ),
    Row("rest_json", "REST: malformed JSON", "400 `JSON Parse error: ...`", JT),
    Row(
        "rest_nested",
        "REST: 100,000 nested brackets",
        "400 (rapidjson parses iteratively; the tensor is rejected)",
        JT,
        "400 `JSON Parse error: the document nests deeper than this server parses`",
        "Python's JSON parser is recursive; the depth is refused, never 500",
    ),
    Row(
        "rest_string",
        "REST: a string where a float is expected",
        '400 `JSON Value: "a" Type: String is not of expected type: float`',
        JT,
    ),
    Row(
        "rest_null",
        "REST: null where a float is expected",
        "400 `JSON Value: null Type: Null is not of expected type: float`",
        JT,
    ),
    Row(
        "rest_extra_key",
        "REST: an extra key in columnar `inputs`",
        "200 (ignored)",
        JT,
    ),
    Row(
        "rest_signature",
        "REST: unknown signature",
        '400 `Serving signature name: "nope" not found in signature def`',
        RH,
    ),
    Row(
        "rest_too_large",
        "REST: body above the limit",
        "no limit of its own",
        HS,
        "413 `request body of N bytes exceeds the limit`",
        "the stand-in bounds the memory a body can take (the gRPC receive limit)",
    ),
    Row(
        "rest_label",
        "REST: `/v1/models/NAME/labels/LABEL:predict`",
        "200 (the labelled version)",
        RH,
    ),
    # Server behaviour, checked by the tests named in `checked_by`.
    Row(
        "startup",
        "start with a model that cannot load",
        "ports opened only after every model loaded; exits when one cannot load",
        SC + " (WaitUntilModelsAvailable)",
        "exit code 1 with `N model(s) did not become available`",
        "the real server aborts with that message (TF_QCHECK_OK in main.cc); 1 is "
        "hdr-keras's code for a refused run",
        kind="behaviour",
        checked_by="test_behaviour.py::test_startup_exits_when_a_model_cannot_load",
    ),
    Row(
        "load_retries",
        "a version that fails to load",
        "retried --max_num_load_retries times, --load_retry_interval_micros apart, "
        "then END with the loader's error; never retried",
        "core/loader_harness.cc, util/retrier.cc",
        kind="behaviour",
        checked_by="test_reliability.py::test_versions_change_while_clients_send",
    ),
    Row(
        "version_folders",
        "a version folder",
        "any integer-named folder (a half-written one fails to load)",
        FS,
        kind="behaviour",
        checked_by="test_reliability.py::test_versions_change_while_clients_send",
    ),
    Row(
        "base_path_lost",
        "the base path disappears",
        "the poll fails; the loaded versions keep serving",
        FS,
        kind="behaviour",
        checked_by="test_behaviour.py::test_base_path_loss_keeps_serving",
    ),
    Row(
        "concurrency",
        "more concurrent gRPC calls than --grpc_max_threads (4 x CPUs)",
        "RESOURCE_EXHAUSTED",
        SRV + " (ResourceQuota)",
        kind="behaviour",
        checked_by="test_behaviour.py::test_limits_concurrency_and_rest_timeout",
    ),
    Row(
        "rest_timeout",
        "a REST prediction longer than --rest_api_timeout_in_ms (30 s)",
        "504 DEADLINE_EXCEEDED",
        RH + ", " + HS,
        "504; the run finishes in the background",
        "a TensorFlow call cannot be cancelled from Python",
        kind="behaviour",
        checked_by="test_behaviour.py::test_limits_concurrency_and_rest_timeout",
    ),
    Row(
        "flags",
        "`--host`, `--grpc_max_message_size`, `--file_system_poll_wait_seconds=0.5`",
        "refused (fractions fail int32 parsing; unknown flags print `unknown "
        "argument`)",
        MAIN,
        "refused, exit 2",
        "exit 2 is every hdr-keras command's usage error; the real server exits -1 "
        "for a bad value and only warns about an unknown flag",
        kind="behaviour",
        checked_by="test_behaviour.py::test_flags_as_the_real_server",
    ),
    Row(
        "bind",
        "interface bound",
        "0.0.0.0",
        SRV,
        "127.0.0.1 (no flag)",
        "a development server stays private; use the Docker image to expose models",
        kind="behaviour",
        checked_by="test_behaviour.py::test_flags_as_the_real_server",
    ),
]


def render() -> str:
    """The markdown table."""
    lines = [
        "| request | TF Serving | source (tensorflow_serving/) | this server | why it differs | checked by |",
        "|---|---|---|---|---|---|",
    ]
    for row in ROWS:
        cells = [
            row.request,
            row.tf_serving,
            row.source,
            row.ours or "same",
            row.why,
            f"`{row.checked_by.split('::')[-1]}`",
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def updated_doc(text: str) -> str:
    """`text` with the table between the markers replaced by `render()`."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"{DOC} lacks the markers {BEGIN!r} ... {END!r}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{render()}\n{END}{tail}"


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(updated_doc(text), encoding="utf-8")
    print(f"wrote the compatibility table ({len(ROWS)} rows) into {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
