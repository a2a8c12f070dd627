"""The `--compare` report in a real browser: headless Chromium from file://.

Skipped (with the reason) when no Chromium is installed (Debian: `apt-get install
chromium`; `.ci/run` tries to install it). The page is opened twice: once as it is
for a screenshot, once as a copy with a checking script appended that makes every
lazy image load, waits for them, and writes what it found (image count, broken
images, rows of the results table, the order after sorting) into the DOM, which
`--dump-dom` prints.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from training.evaluation import ScoreSettings
from training.report import compare, parse_compare

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CHECK = """<script>
document.querySelectorAll("img").forEach(function (img) { img.loading = "eager"; });
Promise.all(Array.from(document.images).map(function (img) {
  return img.complete ? Promise.resolve() : new Promise(function (done) {
    img.addEventListener("load", done); img.addEventListener("error", done); });
})).then(function () {
  var first = function () {
    return document.querySelector("#results tbody tr").cells[0].textContent; };
  var header = document.querySelectorAll("#results th")[1];
  header.click(); var ascending = first(); header.click(); var descending = first();
  var result = {
    images: document.images.length,
    broken: Array.from(document.images).filter(function (img) {
      return !(img.naturalWidth > 0); }).map(function (img) { return img.src; }),
    rows: Array.from(document.querySelectorAll("#results tbody tr")).map(
      function (row) { return row.cells[0].textContent; }),
    ascending: ascending, descending: descending };
  var out = document.createElement("pre"); out.id = "check";
  out.textContent = JSON.stringify(result); document.body.appendChild(out);
});
</script>"""


def _browser() -> str | None:
    for name in BROWSERS:
        if shutil.which(name):
            return shutil.which(name)
    return None


def _run_browser(browser: str, profile: Path, *flags: str) -> str:
    command = [
        browser,
        "--headless",
        "--no-sandbox",  # tests may run as root (CI containers)
        "--disable-gpu",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",  # let the page's scripts and images finish
        *flags,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_report_in_headless_chromium(tiny_stacks, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip(
            f"no browser installed ({', '.join(BROWSERS)}): apt-get install chromium"
        )
    report = tmp_path / "report"
    document = compare(
        parse_compare("debevec,mertens"),
        f"{tiny_stacks}/eval-*.tfrecord",
        report,
        ScoreSettings(),
        progress=False,
    )
    assert len(document["results"]["debevec"]["per_image"]) == 2  # two examples

    screenshot = tmp_path / "screenshot.png"
    _run_browser(
        browser,
        tmp_path / "profile-1",
        f"--screenshot={screenshot}",
        "--window-size=1280,1400",
        (report / "index.html").as_uri(),
    )
    import cv2

    shot = cv2.imread(str(screenshot))
    assert shot is not None and shot.shape[:2] == (1400, 1280)
    assert float(np.std(shot)) > 0  # not a blank page

    page = (report / "index.html").read_text()
    check = _check(browser, report, tmp_path / "profile-2")
    pictures = len(re.findall(r"<img ", page))
    assert check["images"] == pictures > 0
    assert check["broken"] == []
    assert sorted(check["rows"]) == ["debevec", "mertens"]  # one row per method
    # the first metric column: mertens is not scored (sorted below any number)
    assert (check["ascending"], check["descending"]) == ("mertens", "debevec")

    # the check sees a missing picture (the last crop, far below the fold)
    missing = sorted(report.glob("images/001-*/m-mertens-crop.png"))[0]
    missing.unlink()
    check = _check(browser, report, tmp_path / "profile-3")
    assert [Path(src).name for src in check["broken"]] == [missing.name]


def _check(browser: str, report: Path, profile: Path) -> dict:
    """What CHECK finds in the report opened from file:// (see the docstring)."""
    page = (report / "index.html").read_text()
    (report / "check.html").write_text(page.replace("</body>", CHECK + "</body>"))
    dom = _run_browser(browser, profile, "--dump-dom", (report / "check.html").as_uri())
    found = re.search(r'<pre id="check">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
