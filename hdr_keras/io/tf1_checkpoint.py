"""Read a TF1 (`tf.compat.v1.train.Saver`) checkpoint into numpy arrays.

A TF1 checkpoint is a prefix `model-N` with `model-N.index` and
`model-N.data-00000-of-0000K` beside it; `tf.train.load_checkpoint` reads it (TF2's
object-based checkpoints use the same files but different variable names). The
path may also be the folder holding a `checkpoint` state file, as
`tf.train.latest_checkpoint` resolves it.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from hdr_keras.io.weight_files import PathLike, WeightsFileError


def resolve_prefix(path: PathLike) -> str:
    """The checkpoint prefix for `path` (a prefix, its .index file, or a folder)."""
    path = os.fspath(path)
    if path.endswith(".index"):
        path = path[: -len(".index")]
    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is None:
            raise FileNotFoundError(f"no TF checkpoint in folder {path}")
        return latest
    if not os.path.isfile(path + ".index"):
        if os.path.isfile(path):
            raise WeightsFileError(
                path, "not a TF1 checkpoint prefix (expected PATH.index beside it)"
            )
        raise FileNotFoundError(f"TF checkpoint not found: {path}(.index)")
    return path


def read_tf1_checkpoint(path: PathLike) -> dict[str, np.ndarray]:
    """{variable name: array} of every tensor in the checkpoint at `path`.

    Raises:
        FileNotFoundError: no checkpoint there.
        WeightsFileError: the files are not a readable TF checkpoint.
    """
    prefix = resolve_prefix(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
        names = sorted(reader.get_variable_to_shape_map())
        return {name: np.asarray(reader.get_tensor(name)) for name in names}
    except (tf.errors.OpError, ValueError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise WeightsFileError(
            prefix, f"not a readable TF checkpoint ({type(error).__name__}: {message})"
        ) from None
