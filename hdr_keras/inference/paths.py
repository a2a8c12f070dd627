"""Where a model lives: the `final.keras` name and one resolver for `--model`.

A training run writes `<model_dir>/final.keras` (`FINAL_MODEL`); an export writes
`<base>/<version:int>/saved_model.pb`. `resolve_model_path` accepts any of them:

- a `.keras` file;
- a training model_dir holding `final.keras`;
- a SavedModel version folder (holds `saved_model.pb`);
- a model folder of integer versions (its latest complete version).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hdr_keras.inference.versions import is_saved_model, latest_version

FINAL_MODEL = "final.keras"  # written by training.main into --model_dir
KERAS, SAVED_MODEL = "keras", "saved_model"


@dataclasses.dataclass(frozen=True)
class ModelPath:
    """A resolved model: `kind` KERAS (a .keras file) or SAVED_MODEL (a version
    folder), and its `path`."""

    kind: str
    path: Path


def final_model_path(model_dir: str | Path) -> Path:
    """`<model_dir>/final.keras`, the trained model of a training run."""
    return Path(model_dir) / FINAL_MODEL


def resolve_model_path(path: str | Path) -> ModelPath:
    """The model at `path` (module docstring lists the accepted forms).

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: a folder that is none of the above.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if not path.is_dir():
        if path.suffix != ".keras":
            raise ValueError(
                f"{path} is neither a .keras file, a SavedModel nor a folder of "
                "versions"
            )
        return ModelPath(KERAS, path)
    if final_model_path(path).is_file():
        return ModelPath(KERAS, final_model_path(path))
    if is_saved_model(path):
        return ModelPath(SAVED_MODEL, path)
    latest = latest_version(path)
    if latest is None:
        raise ValueError(f"{path} is neither a SavedModel nor a folder of versions")
    return ModelPath(SAVED_MODEL, latest)
