"""Load the authors' published checkpoints into hdr-keras models.

`load_authors_weights(method, path, **build_kwargs)` builds `method` with
`hdr_keras.registry.build_model(method, **build_kwargs)` and fills it from the
checkpoint at `path`, in the authors' own file format, read without their
frameworks (no torch, TensorLayer, tf-slim or MATLAB):

| method | authors' file | reader |
|---|---|---|
| ahdrnet | PyTorch state_dict (.pt/.pth/.pkl; legacy PyTorch 0.3 or zip format) | `hdr_keras.io.torch_pickle` |
| wu_resnet | TF1 checkpoint prefix `model-N` (.index/.data-*) | `tf.train.load_checkpoint` |
| kalantari_direct, kalantari_we | MatConvNet SimpleNN `.mat` (`net.layers`) | `hdr_keras.io.matconvnet` (scipy.io) |
| eilertsen | TensorLayer `hdrcnn_params*.npz` | `hdr_keras.io.tensorlayer` |
| liu | SingleHDR TF1 checkpoint prefix (needs `emor_dir=`) | `tf.train.load_checkpoint` |

Each method's mapping lives in its package (`hdr_keras/methods/<family>/authors.py`),
named by its spec's `authors_weights` field and imported on first use; the
shared pieces (`WeightFiller`, the error) are in `hdr_keras.authors.common`. Every problem raises
`AuthorsWeightsError` (a ValueError) naming the file and the tensor: wrong format,
missing tensor, wrong shape, or a tensor the model has no place for (except those
a method declares ignorable, e.g. AHDRNet's unused `attConv1`/`attConv3`).
The result is an ordinary hdr-keras model (`.keras` save/load, `hdr_keras.freeze`,
SavedModel export).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import keras

from hdr_keras.authors.common import AuthorsWeightsError
from hdr_keras.io.weight_files import PathLike, WeightsFileError
from hdr_keras.registry import get_method, list_methods

def supported_methods() -> list[str]:
    """Methods whose authors' checkpoints `load_authors_weights` reads, sorted."""
    return [m for m in list_methods() if get_method(m).authors_weights]


def load_authors_weights(
    method: str, path: PathLike, **build_kwargs: Any
) -> keras.Model:
    """Builds `method` and fills it from the authors' checkpoint at `path`.

    Args:
        method: registry name (see `supported_methods()`).
        path: the checkpoint file (for TF1 checkpoints: the prefix, `model-N`).
        **build_kwargs: passed to `hdr_keras.registry.build_model`, except the
            loader keywords a method documents (ahdrnet: `transpose`).
    Returns:
        The built model with the authors' weights.
    Raises:
        ValueError: `method` has no authors' checkpoint format here.
        FileNotFoundError: `path` does not exist.
        AuthorsWeightsError: the file does not fit (names file and tensor).
    """
    spec = get_method(method)
    if not spec.authors_weights:
        raise ValueError(
            f"no authors' checkpoint format for method {method!r}; supported: "
            f"{', '.join(supported_methods())}"
        )
    module = importlib.import_module(spec.authors_weights)
    try:
        return module.load(method, os.fspath(path), **build_kwargs)
    except WeightsFileError as error:
        raise AuthorsWeightsError(error.path, error.reason) from error


__all__ = ["AuthorsWeightsError", "load_authors_weights", "supported_methods"]
