"""Shared pieces of the readers of other frameworks' weight files (no framework needed).

- `WeightsFileError(ValueError)`: what every such reader raises; the message starts
  with the file's path, e.g. ``ahdr_model.pt: not a PyTorch file (...)``.
- `RestrictedUnpickler`: a `pickle.Unpickler` that resolves only an explicit
  allow-list of globals, each mapped to a stand-in chosen by the reader. Weight files
  written with pickle (PyTorch, numpy object arrays) can run arbitrary code when
  loaded with plain `pickle`; here any other global raises `WeightsFileError`.
"""

from __future__ import annotations

import os
import pickle
from typing import IO, Any, Callable, Mapping, Union

PathLike = Union[str, "os.PathLike[str]"]


class WeightsFileError(ValueError):
    """A weight file could not be read; the message starts with its path.

    Args:
        path: the file concerned.
        reason: what went wrong (and which tensor, where known).
    """

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason))


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose globals come only from `allowed` ((module, name) -> object).

    Args:
        file: binary file positioned at a pickle.
        path: the file's path, for error messages.
        allowed: (module, name) -> the object that stands for that global.
        persistent_load: optional callable for persistent ids (PyTorch storages).
        encoding: how to decode Python 2 `str` objects ("latin1" keeps bytes).
    """

    def __init__(
        self,
        file: IO[bytes],
        path: PathLike,
        allowed: Mapping[tuple[str, str], Any],
        persistent_load: Callable[[Any], Any] | None = None,
        encoding: str = "utf-8",
    ) -> None:
        super().__init__(file, encoding=encoding)
        self._path = path
        self._allowed = dict(allowed)
        self._persistent = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise WeightsFileError(
                self._path,
                f"refusing to load the pickled global {module}.{name} (not a "
                "weight-file type this reader knows; the file may not be what it "
                "claims to be)",
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent is None:
            raise WeightsFileError(
                self._path, f"unexpected persistent id {pid!r} in the pickle"
            )
        return self._persistent(pid)


def restricted_load(
    file: IO[bytes],
    path: PathLike,
    allowed: Mapping[tuple[str, str], Any],
    persistent_load: Callable[[Any], Any] | None = None,
    encoding: str = "utf-8",
) -> Any:
    """One object from `file` through `RestrictedUnpickler`; any pickle error
    becomes a `WeightsFileError` naming `path`."""
    unpickler = RestrictedUnpickler(file, path, allowed, persistent_load, encoding)
    try:
        return unpickler.load()
    except WeightsFileError:
        raise
    except Exception as error:  # UnpicklingError, EOFError, ValueError, ...
        raise WeightsFileError(
            path, f"not a readable pickle ({type(error).__name__}: {error})"
        ) from error
