"""`python -m serving.server`: tensorflow_model_server's command line.

Flags carry the real server's names, types and defaults (model_servers/main.cc and
server.h): integer flags refuse fractions (`--file_system_poll_wait_seconds=0.5`),
flags the real server does not have are refused (`--host`,
`--grpc_max_message_size`), except `--max_pixels_per_request`, this server's
guard against requests larger than the model can run (`serving.server.budget`).
Real flags this server does not implement are refused with a message saying so.

Exit codes (`hdr_keras.errors`): 2 for a malformed command line, 1 when a model
cannot load (the real server exits too, server_core.cc) or a port cannot be bound.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Sequence

from hdr_keras.errors import EXIT_USER_ERROR
from serving.export import repository
from serving.server.model_server import ModelServer, parse_channel_arguments
from serving.server.servables import model_config

INT32_MAX = (1 << 31) - 1
MAX_RECEIVE = "grpc.max_receive_message_length"
# Real flags (model_servers/main.cc) that this development server does not implement.
NOT_IMPLEMENTED = (
    "grpc_socket_path",
    "rest_api_enable_cors_support",
    "enable_per_model_batching_parameters",
    "allow_version_labels_for_unavailable_models",
    "num_load_threads",
    "num_unload_threads",
    "use_alts_credentials",
    "ssl_config_file",
    "platform_config_file",
    "per_process_gpu_memory_fraction",
    "saved_model_tags",
    "tensorflow_session_parallelism",
    "tensorflow_intra_op_parallelism",
    "tensorflow_inter_op_parallelism",
    "tensorflow_session_config_file",
    "monitoring_config_file",
    "enable_model_warmup",
    "num_request_iterations_for_warmup",
    "prefer_tflite_model",
    "thread_pool_factory_config_file",
    "enable_signature_method_name_check",
    "enable_grpc_healthcheck_service",
    "mixed_precision",
)

logger = logging.getLogger(__name__)


def _bool(text: str) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m serving.server",
        description="Development model server speaking TF Serving's gRPC and REST "
        "APIs (flags as tensorflow_model_server's).",
        allow_abbrev=False,
    )
    add = parser.add_argument

    def flag(name: str, **kwargs):
        if kwargs.get("type") is _bool:
            kwargs.update(nargs="?", const=True)
        add(f"--{name}", **kwargs)

    flag("port", type=int, default=8500, help="gRPC port (0: any free port)")
    flag("rest_api_port", type=int, default=0, help="REST port, 0 = off")
    flag("rest_api_num_threads", type=int, default=0, help="0: 4 x CPUs")
    flag("rest_api_timeout_in_ms", type=int, default=30000)
    flag("model_name", default="default", help="name of the single model")
    flag("model_base_path", default="", help="folder of the single model's versions")
    flag("model_config_file", default="", help="model_config_list text proto file")
    flag("model_config_file_poll_wait_seconds", type=int, default=0)
    flag("file_system_poll_wait_seconds", type=int, default=1)
    flag("flush_filesystem_caches", type=_bool, default=True, help="no effect here")
    flag("grpc_channel_arguments", default="", help="k=v,... gRPC server options")
    flag("grpc_max_threads", type=int, default=0, help="0: 4 x CPUs")
    flag("max_num_load_retries", type=int, default=5)
    flag("load_retry_interval_micros", type=int, default=60 * 1000 * 1000)
    flag("enable_batching", type=_bool, default=False)
    flag("batching_parameters_file", default="")
    flag("enable_serialization_as_tensor_content", type=_bool, default=False)
    flag("enable_profiler", type=_bool, default=True, help="no effect here")
    flag("xla_cpu_compilation_enabled", type=_bool, default=False, help="no effect")
    flag("version", type=_bool, default=False, help="print the version and exit")
    flag(
        "max_pixels_per_request",
        type=int,
        default=0,
        help="(this server only) pixel budget per request; 0: derived per model "
        "from the machine's memory",
    )
    for name in NOT_IMPLEMENTED:
        flag(name, default=None, help=argparse.SUPPRESS)
    return parser


def configs_from_args(args: argparse.Namespace) -> list:
    if bool(args.model_config_file) == bool(args.model_base_path):
        raise SystemExit(
            "pass either --model_config_file or --model_name/--model_base_path"
        )
    if args.model_config_file:
        return repository.read_models_config(args.model_config_file)
    return [model_config(args.model_name, args.model_base_path)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    used = [name for name in NOT_IMPLEMENTED if getattr(args, name) is not None]
    if used:
        parser.error(
            f"--{used[0]} is a tensorflow_model_server flag this development server "
            "does not implement"
        )
    if args.version:
        print("hdr-keras development ModelServer (TF Serving protocol)")
        return
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    configs = configs_from_args(args)
    if args.batching_parameters_file:
        params = repository.read_batching_config(args.batching_parameters_file)
        logger.info("batching parameters (validated, not applied): %s", params)
    if args.enable_batching:
        logger.warning(
            "--enable_batching: this development server runs requests concurrently "
            "without merging them into batches"
        )
    try:
        channel = parse_channel_arguments(args.grpc_channel_arguments)
    except ValueError as error:
        parser.error(f"--grpc_channel_arguments: {error}")
    limits = dict(channel)
    max_bytes = limits.get(MAX_RECEIVE, INT32_MAX)
    server = ModelServer(
        configs,
        port=args.port,
        rest_api_port=args.rest_api_port,
        max_message_bytes=max_bytes if isinstance(max_bytes, int) else INT32_MAX,
        grpc_channel_arguments=channel,
        grpc_max_threads=args.grpc_max_threads or None,
        rest_api_num_threads=args.rest_api_num_threads or None,
        file_system_poll_wait_seconds=args.file_system_poll_wait_seconds,
        model_config_file=args.model_config_file or None,
        model_config_file_poll_wait_seconds=args.model_config_file_poll_wait_seconds,
        max_num_load_retries=args.max_num_load_retries,
        load_retry_interval_seconds=max(0, args.load_retry_interval_micros) / 1e6,
        rest_api_timeout_seconds=args.rest_api_timeout_in_ms / 1000.0,
        tensor_content=args.enable_serialization_as_tensor_content,
        max_pixels_per_request=args.max_pixels_per_request or None,
    )

    def on_signal(signum, frame):
        logger.info("signal %d: shutting down", signum)
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server.start()
    except (RuntimeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        server.stop(grace=None)
        sys.exit(EXIT_USER_ERROR)
    print(
        f"Running gRPC ModelServer at {server.host}:{server.grpc_port} ...", flush=True
    )
    if server.rest_port:
        print(
            f"Exporting HTTP/REST API at {server.host}:{server.rest_port} ...",
            flush=True,
        )
    server.wait()
    for thread in server._threads:
        thread.join(timeout=10)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
