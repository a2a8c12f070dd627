"""A TF-Serving-protocol-compatible model server, for development and tests.

- `model_server`: `ModelServer`; `cli`: `python -m serving.server`.
- `manager`: versions (poll, load, retry, labels); `budget`, `image_size`: the
  per-model pixel budget; `compat`: the compatibility table with TF Serving.
- `servables`: one loaded SavedModel version, its checks and runs.
- `grpc_service`, `rest`: TF Serving's gRPC and REST APIs over the servables.
- `tensors`, `errors`: conversions and the error type shared with the clients
  (importing them needs neither TensorFlow nor this package's server code).

`ModelServer` and `main` are importable from here; they load on first use so that
the clients can import `serving.server.errors` and `serving.server.tensors` without
TensorFlow.
"""

from __future__ import annotations

_LAZY = ("ModelServer", "main", "build_parser")


def __getattr__(name: str):
    if name == "ModelServer":
        from serving.server import model_server

        return model_server.ModelServer
    if name in _LAZY:
        from serving.server import cli

        return getattr(cli, name)
    raise AttributeError(f"module 'serving.server' has no attribute {name!r}")
