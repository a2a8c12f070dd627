"""Errors of the TFRecord layer; every message names the shard."""

from __future__ import annotations


class CorruptShardError(ValueError):
    """A TFRecord shard is truncated or corrupt. The message names the file."""
