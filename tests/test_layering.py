"""The layering rules of the package, checked on the source (no imports executed).

- `hdr_keras/` is the library: it never imports the apps `training`, `serving` or
  `tfrecords`.
- `training/` never imports `serving` (evaluation uses `hdr_keras.inference`).

Every `import x` and `from x import y` statement counts, wherever it stands (module
level, inside a function, under `if TYPE_CHECKING`), and so does a literal
`importlib.import_module("x...")` call.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# package -> top-level packages it must not import.
FORBIDDEN = {
    "hdr_keras": ("training", "serving", "tfrecords"),
    "training": ("serving",),
}


def imported_modules(source: str, filename: str = "<string>") -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`.

    Relative imports (`from . import x`) stay inside their own package and are
    skipped: they cannot reach another top-level package.
    """
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Attribute, ast.Name))
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def violations(package: str, root: pathlib.Path = ROOT) -> list[str]:
    """`file:line imports module` for every forbidden import under `package/`."""
    forbidden = FORBIDDEN[package]
    bad = []
    for path in sorted((root / package).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for line, module in imported_modules(source, str(path)):
            if module.split(".")[0] in forbidden:
                bad.append(f"{path.relative_to(root)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_forbidden_apps(package):
    assert (ROOT / package).is_dir()
    assert violations(package) == []


def test_the_check_sees_every_import_form(tmp_path):
    """The checker itself: each import form is caught, relative imports are not."""
    pkg = tmp_path / "hdr_keras"
    pkg.mkdir()
    (pkg / "a.py").write_text(
        "import serving.export\n"
        "from training import main\n"
        "def f():\n"
        "    import tfrecords.reader as r\n"
        "    importlib.import_module('serving.predict')\n"
        "from . import sibling\n"
        "import hdr_keras.ops\n"
    )
    assert violations("hdr_keras", root=tmp_path) == [
        "hdr_keras/a.py:1 imports serving.export",
        "hdr_keras/a.py:2 imports training",
        "hdr_keras/a.py:4 imports tfrecords.reader",
        "hdr_keras/a.py:5 imports serving.predict",
    ]
