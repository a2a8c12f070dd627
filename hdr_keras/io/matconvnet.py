"""Read a MatConvNet SimpleNN network (`net.layers` in a MATLAB .mat) with scipy.io.

MatConvNet's SimpleNN stores a network as a struct `net` whose field `layers` is a
cell array of structs with a `type` ('conv', 'relu', 'sigmoid', ...) and, for
convolutions, `weights` = {filters [kh, kw, in, out], biases [1, out]}, `pad` and
`stride`. `vl_nnconv` is a cross-correlation over (rows, columns) = (y, x), so the
filters are already in Keras' `Conv2D` kernel layout [kh, kw, in, out]. Only MATLAB
v4-v7.2 files are readable by scipy; v7.3 (HDF5) files raise `WeightsFileError`.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import scipy.io

from hdr_keras.io.weight_files import PathLike, WeightsFileError


@dataclasses.dataclass(frozen=True)
class MatConvNetLayer:
    """One SimpleNN layer.

    Attributes:
        index: 0-based position in `net.layers`.
        type: 'conv', 'relu', 'sigmoid', ...
        weights: the arrays of `weights` (conv: filters [kh, kw, in, out], biases
            [out]); empty for layers without weights.
        pad: `pad` as a list of ints (empty when absent).
        stride: `stride` as a list of ints (empty when absent).
    """

    index: int
    type: str
    weights: tuple[np.ndarray, ...]
    pad: tuple[int, ...]
    stride: tuple[int, ...]


def _text(value) -> str:
    array = np.asarray(value)
    if array.dtype.kind in "US":
        return "".join(str(s) for s in array.ravel())
    return str(value)


def _ints(struct, field: str) -> tuple[int, ...]:
    if field not in getattr(struct, "_fieldnames", []):
        return ()
    return tuple(int(v) for v in np.asarray(getattr(struct, field)).ravel())


def read_matconvnet_layers(path: PathLike) -> list[MatConvNetLayer]:
    """The layers of the SimpleNN `net` in the .mat file `path`.

    Raises:
        FileNotFoundError: no such file.
        WeightsFileError: not a MATLAB file with a SimpleNN `net.layers`.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"MatConvNet file not found: {path}")
    try:
        contents = scipy.io.loadmat(path, struct_as_record=False)
    except NotImplementedError:
        raise WeightsFileError(
            path,
            "MATLAB v7.3 (HDF5) file: re-save it in MATLAB with save(..., '-v7') "
            "to read it here",
        ) from None
    except Exception as error:  # scipy raises ValueError, TypeError, ...
        raise WeightsFileError(
            path, f"not a MATLAB .mat file ({type(error).__name__}: {error})"
        ) from None
    if "net" not in contents:
        names = ", ".join(k for k in contents if not k.startswith("__")) or "none"
        raise WeightsFileError(path, f"no variable 'net' (variables: {names})")
    net = np.asarray(contents["net"]).ravel()[0]
    if "layers" not in getattr(net, "_fieldnames", []):
        raise WeightsFileError(
            path, "net has no field 'layers' (not a MatConvNet SimpleNN network)"
        )
    layers = []
    for index, cell in enumerate(np.asarray(net.layers).ravel()):
        struct = np.asarray(cell).ravel()[0]
        if "type" not in getattr(struct, "_fieldnames", []):
            raise WeightsFileError(path, f"net.layers{{{index + 1}}} has no 'type'")
        weights: tuple[np.ndarray, ...] = ()
        if "weights" in struct._fieldnames:
            weights = tuple(
                np.asarray(w) for w in np.asarray(struct.weights, dtype=object).ravel()
            )
        layers.append(
            MatConvNetLayer(
                index=index,
                type=_text(struct.type),
                weights=weights,
                pad=_ints(struct, "pad"),
                stride=_ints(struct, "stride"),
            )
        )
    return layers
