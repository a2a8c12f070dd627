"""The inference code is library code: it imports neither `serving` nor `training`,
and `training.evaluate` reaches it without going through `serving`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CHECKED = {
    "hdr_keras/inference": ("serving", "training", "tfrecords"),
    "hdr_keras/io/exif.py": ("serving", "training", "tfrecords"),
    "training/evaluate.py": ("serving",),
    "training/eval_data.py": ("serving",),
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("where", sorted(CHECKED))
def test_no_forbidden_imports(where):
    target = REPO / where
    files = sorted(target.glob("*.py")) if target.is_dir() else [target]
    assert files
    for path in files:
        forbidden = imported_packages(path) & set(CHECKED[where])
        assert not forbidden, f"{path.relative_to(REPO)} imports {sorted(forbidden)}"
