"""`python -m benchmarks.docs`: benchmark figures written into the manual's pages.

The report is a small fixture built here in the shape `benchmarks.run` writes
(see tests/benchmarks/test_run.py for a real run); no benchmark runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CREATED = "2031-04-05T06:07:08Z"
COMMAND = "python -m benchmarks.run --quick --out=/tmp/q.json"


@pytest.fixture
def gen(monkeypatch):
    """The `benchmarks.docs` module (the benchmarks folder is not installed)."""
    monkeypatch.syspath_prepend(str(REPO))
    import benchmarks.docs

    return benchmarks.docs


def _result(method: str, parameters: int, s_per_mp: float) -> dict:
    row = {
        "height": 8,
        "width": 8,
        "megapixels": 64e-6,
        "s_per_megapixel": s_per_mp,
        "cpu_s": 1e-4,
        "peak_rss_mib": 321.0,
        "flops_per_pixel": 1.5e6,
        "gflops_per_s": 7.0,
    }
    return {
        "method": method,
        "input_kind": "stack",
        "parameters": parameters,
        "inference": [row],
        "training": {
            "batch_size": 4,
            "patch_size": 64,
            "step_s": 0.5,
            "peak_rss_mib": 654.0,
        },
        "errors": {},
        "status": "ok",
    }


def _report() -> dict:
    return {
        "created": CREATED,
        "command": COMMAND,
        "machine": {
            "cpu": "Test CPU",
            "usable_cores": 2,
            "load_average": [1.25, 1.0, 1.0],
            "tensorflow": "2.21.0",
            "keras": "3.15.0",
        },
        "settings": {
            "mode": "quick",
            "schedule": "quick",
            "sizes": [[8, 8]],
            "xla": False,
            "warmup": 1,
            "runs": 1,
            "frames": 3,
            "budget_s": 20,
        },
        "duration_s": 12.0,
        "methods": [
            _result("kalantari_we", 383_909, 42.5),
            _result("kalantari_wie", 384_368, 47.5),
            _result("inverse_curve", 0, 0.25),
            _result("newmethod_x", 7, 1.0),
        ],
    }


@pytest.fixture
def docs(tmp_path, gen) -> Path:
    """A docs folder: an overview page with markers (and the markers quoted
    inline, which do not count), a method page with markers and stale content in
    them, a method page without markers."""
    root = tmp_path / "docs"
    (root / "methods").mkdir(parents=True)
    (root / "benchmarks.md").write_text(
        f"# Benchmarks\n\nintro `{gen.BEGIN}` and `{gen.END}` quoted\n\n"
        f"{gen.BEGIN}\nold figures\n{gen.END}\n\n"
        "## After\n\nkept\n"
    )
    (root / "methods" / "kalantari.md").write_text(
        f"# Kalantari\n\n## Measured\n\n{gen.BEGIN}\nstale 99 s/MP\n{gen.END}\n\n"
        "Dated figure: 37.62 dB (2026-11-25).\n"
    )
    (root / "methods" / "inverse_curve.md").write_text("# inverse_curve\n\ntext\n")
    return root


def _write(tmp_path: Path, report: dict) -> Path:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    return path


def test_blocks_are_written_with_date_command_and_rows(gen, docs, tmp_path, capsys):
    path = _write(tmp_path, _report())
    assert gen.main([f"--json={path}", f"--docs={docs}"]) == 0
    assert "no page docs/methods/ for newmethod_x" in capsys.readouterr().err

    overview = (docs / "benchmarks.md").read_text()
    assert overview.startswith(f"# Benchmarks\n\nintro `{gen.BEGIN}` and `{gen.END}`")
    assert overview.endswith(f"{gen.END}\n\n## After\n\nkept\n")
    assert "old figures" not in overview
    assert f"Measured on 2031-04-05 ({CREATED}) with `{COMMAND}`" in overview
    assert "Test CPU, 2 core(s), load average 1.25" in overview
    for row in ("| `kalantari_we` | stack | 383,909 |", "| `newmethod_x` |"):
        assert row in overview  # every method, with or without a page

    kalantari = (docs / "methods" / "kalantari.md").read_text()
    assert "stale 99" not in kalantari
    assert "Dated figure: 37.62 dB (2026-11-25)." in kalantari  # outside: kept
    assert "| `kalantari_we` | stack | 383,909 | 42.50 |" in kalantari
    assert "| `kalantari_wie` | stack | 384,368 | 47.50 |" in kalantari
    assert "inverse_curve" not in kalantari and "newmethod_x" not in kalantari
    assert f"with `{COMMAND}`" in kalantari and "(../benchmarks.md)" in kalantari

    inverse = (docs / "methods" / "inverse_curve.md").read_text()
    assert inverse.startswith("# inverse_curve\n\ntext\n\n" + gen.APPENDED_HEADING)
    assert inverse.count(gen.BEGIN) == 1 and inverse.rstrip().endswith(gen.END)
    assert "| `inverse_curve` | stack | 0 | 0.25 |" in inverse


def test_rerun_changes_nothing_and_check_reports_stale_pages(gen, docs, tmp_path):
    path = _write(tmp_path, _report())
    assert gen.main([f"--json={path}", f"--docs={docs}", "--check"]) == 1
    assert "old figures" in (docs / "benchmarks.md").read_text()  # check: no write
    assert gen.main([f"--json={path}", f"--docs={docs}"]) == 0
    before = {p: p.read_text() for p in docs.rglob("*.md")}
    assert gen.main([f"--json={path}", f"--docs={docs}"]) == 0
    assert {p: p.read_text() for p in docs.rglob("*.md")} == before
    assert gen.main([f"--json={path}", f"--docs={docs}", "--check"]) == 0

    newer = _report()
    newer["created"] = "2031-05-06T00:00:00Z"
    assert gen.main([f"--json={_write(tmp_path, newer)}", f"--docs={docs}"]) == 0
    assert "Measured on 2031-05-06" in (docs / "methods" / "kalantari.md").read_text()
    assert "2031-04-05" not in (docs / "benchmarks.md").read_text()


def test_errors_name_the_file(gen, docs, tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert gen.main([f"--json={missing}", f"--docs={docs}"]) == 2
    assert "nope.json" in capsys.readouterr().err
    page = docs / "methods" / "kalantari.md"
    page.write_text(page.read_text() + f"\n{gen.BEGIN}\nx\n{gen.END}\n")
    path = _write(tmp_path, _report())
    assert gen.main([f"--json={path}", f"--docs={docs}"]) == 2
    assert "2 benchmark blocks" in capsys.readouterr().err


def test_page_for_prefers_the_full_name(gen, tmp_path):
    (tmp_path / "wu.md").write_text("")
    (tmp_path / "inverse_curve.md").write_text("")
    assert gen.page_for("wu_unet", tmp_path) == tmp_path / "wu.md"
    assert gen.page_for("inverse_curve", tmp_path) == tmp_path / "inverse_curve.md"
    assert gen.page_for("liu", tmp_path) is None


# --------------------------------------------------------------- the manual itself
# Pages linked from the manual that are written elsewhere (none left): every link
# must resolve.
PAGES_WRITTEN_ELSEWHERE: set[str] = set()
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def _manual_pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces -> '-'."""
    text = _FENCE.sub("", page.read_text())
    headings = re.findall(r"^#+\s+(.*?)\s*$", text, re.MULTILINE)
    return {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in headings
    }


def test_readme_is_a_front_page_and_links_the_manual():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for page in ("docs/index.md", "docs/training.md", "docs/serving.md"):
        assert f"]({page}" in readme


def test_readme_set_up_matches_ci():
    """.ci/run runs "the README's install command, the README's test command"."""
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    (install,) = re.findall(r"^pip install .*$", ci, re.MULTILINE)
    (test,) = re.findall(r"^pytest.*$", ci, re.MULTILINE)
    assert f"{install.replace(' --quiet', '')} && {test}\n" in readme
    for variable in re.findall(r"^export (\w+)=", ci, re.MULTILINE):
        assert f"export {variable}=" in readme, variable


def test_every_link_of_the_manual_resolves():
    broken = []
    for page in _manual_pages():
        for target in _LINK.findall(_FENCE.sub("", page.read_text())):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            relative = resolved.relative_to(REPO).as_posix()
            if not resolved.exists():
                if relative not in PAGES_WRITTEN_ELSEWHERE:
                    broken.append(f"{page.relative_to(REPO)}: {target}")
            elif anchor and anchor not in _anchors(resolved):
                broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_every_registered_method_has_a_page(gen):
    import hdr_keras

    missing = [
        name
        for name in hdr_keras.list_methods()
        if gen.page_for(name, REPO / "docs" / "methods") is None
    ]
    assert not missing, f"no docs/methods/ page for {missing}"


def test_the_manual_holds_the_figures_of_its_committed_benchmark_json(gen):
    """docs/measurements/*.json are the runs the manual's blocks were generated
    from: regenerating from them changes nothing (no figure typed by hand)."""
    runs = sorted((REPO / "docs" / "measurements").glob("*.json"))
    assert runs, "no benchmarks.run JSON committed under docs/measurements/"
    for run in runs:
        assert gen.main([f"--json={run}", f"--docs={REPO / 'docs'}", "--check"]) == 0
