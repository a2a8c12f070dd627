"""Integer version folders: `<base>/<version:int>/` as TF Serving lays them out.

One listing function for the exporter (which must not reuse any integer folder),
the model server and the loaders (which want complete SavedModels only).
"""

from __future__ import annotations

import re
from pathlib import Path

SAVED_MODEL_FILE = "saved_model.pb"
_VERSION_DIR = re.compile(r"[0-9]+")


def list_versions(base_path: str | Path, complete: bool = True) -> dict[int, Path]:
    """Version number -> folder, for the integer-named folders in `base_path`.

    Args:
        base_path: a model folder; missing or not a folder -> {}.
        complete: keep only folders holding `saved_model.pb` (a version still being
            written, or a failed one, is skipped). False: every integer-named
            folder, as the exporter needs to never overwrite one.
    """
    base = Path(base_path)
    if not base.is_dir():
        return {}
    return {
        int(child.name): child
        for child in base.iterdir()
        if _VERSION_DIR.fullmatch(child.name)
        and child.is_dir()
        and (not complete or (child / SAVED_MODEL_FILE).is_file())
    }


def latest_version(base_path: str | Path) -> Path | None:
    """The folder of the largest complete version in `base_path`, or None."""
    versions = list_versions(base_path)
    return versions[max(versions)] if versions else None


def is_saved_model(path: str | Path) -> bool:
    """True when `path` is a SavedModel folder (holds `saved_model.pb`)."""
    return (Path(path) / SAVED_MODEL_FILE).is_file()
