"""Errors of the TFRecord layer; every message names the shard."""

from __future__ import annotations

from hdr_keras.errors import UserError


class CorruptShardError(UserError, ValueError):
    """A TFRecord shard is truncated or corrupt. The message names the file."""
