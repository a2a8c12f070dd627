"""No app module switches on a method's name: `training/`, `tfrecords/`, `serving/`
(and the library outside `hdr_keras/methods/`) dispatch on `MethodSpec` fields.

Parsed with `ast` (comments and docstrings may name methods): a registered method
name may not appear as a string compared with (`==`, `!=`, `in`, `not in`), as a
key or element of a dict, tuple, list or set literal (a table of methods, e.g. a
former `CAMERA_METHODS = ("liu",)`), as a subscript (`CONFIGS["liu"]`) or as a
`match` case.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hdr_keras

REPO = Path(__file__).resolve().parents[1]
CHECKED = ("training", "tfrecords", "serving", "hdr_keras")
EXEMPT = (REPO / "hdr_keras" / "methods",)  # a method's own package names itself


def _modules() -> list[Path]:
    paths = []
    for folder in CHECKED:
        for path in sorted((REPO / folder).rglob("*.py")):
            if not any(path.is_relative_to(exempt) for exempt in EXEMPT):
                paths.append(path)
    return paths


def _strings(node: ast.AST) -> list[str]:
    """String constants of `node`, or of the elements of a literal collection."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for element in node.elts for s in _strings(element)]
    return []


def method_name_switches(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, name) of every use of a method name as a switch in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        candidates: list[ast.AST] = []
        if isinstance(node, ast.Compare):
            candidates = [node.left, *node.comparators]
        elif isinstance(node, ast.Dict):
            candidates = [key for key in node.keys if key is not None]
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            candidates = [node]
        elif isinstance(node, ast.Subscript):
            candidates = [node.slice]
        elif isinstance(node, ast.MatchValue):
            candidates = [node.value]
        for candidate in candidates:
            found += [(node.lineno, s) for s in _strings(candidate) if s in names]
    return sorted(set(found))


def test_the_checker_finds_the_former_switches():
    names = {"eilertsen", "liu"}
    source = (
        'CAMERA_METHODS = ("liu",)\n'
        'if spec.name not in ("eilertsen", "liu"):\n    pass\n'
        'if spec.name != "eilertsen":\n    pass\n'
        'CONFIGS = {"liu": 1}\nCONFIGS["eilertsen"]\n'
        'match name:\n    case "liu":\n        pass\n'
        'def f():\n    """Only liu; "eilertsen" in a docstring is fine."""\n'
    )
    assert [line for line, _ in method_name_switches(source, names)] == [
        1, 2, 2, 4, 6, 7, 9,
    ]  # fmt: skip


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_switches_on_a_method_name(path):
    names = set(hdr_keras.list_methods())
    found = method_name_switches(path.read_text(), names)
    assert not found, f"{path.relative_to(REPO)} switches on method names: {found}"
