"""The `index.html` of a `--compare` report: one self-contained page.

No external scripts, fonts or styles: the style and the table sorting (a few lines
of script) are inline, the pictures are PNG files beside the page referenced by
relative paths, so the folder works from the file system (file://) and can be
zipped or served as it is. Thumbnails load lazily and link to the full size.
Every metric is "higher is better": the best value per column is marked.
"""

from __future__ import annotations

import html
from pathlib import Path

from training.report_images import (
    ERROR_RANGE,
    THUMB_SIZE,
    ExampleImages,
    write_colorbar,
)

STYLE = """
body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#eee;cursor:pointer;user-select:none}
td:first-child,th:first-child,td.name{text-align:left}
.best{font-weight:bold;background:#d9f2d9}
.row{display:flex;flex-wrap:wrap;gap:.6em;align-items:flex-start}
figure{margin:0;font-size:.8em;max-width:%dpx}
figure img{display:block;max-width:100%%;height:auto;background:#ddd}
.crop img{width:192px;height:192px;image-rendering:pixelated}
.settings{max-width:60em}
.note{color:#666;font-size:.9em}
section{border-top:1px solid #ccc;margin-top:1em}
""" % (THUMB_SIZE)

SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.title = "click to sort";
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0], column = th.cellIndex;
    var up = th.dataset.order !== "asc";
    th.dataset.order = up ? "asc" : "desc";
    var key = function (row) {
      var cell = row.cells[column], value = cell.dataset.value;
      return value === undefined ? cell.textContent : parseFloat(value);
    };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      var c = typeof x === "number" ? (isNaN(x) ? -1e300 : x) - (isNaN(y) ? -1e300 : y)
                                    : String(x).localeCompare(String(y));
      return up ? c : -c;
    }).forEach(function (row) { body.appendChild(row); });
  });
});
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _metric_names(results: dict) -> list[str]:
    names: dict[str, None] = {}
    for result in results.values():
        names.update(dict.fromkeys(result["mean"]))
        for values in result["per_image"].values():
            names.update(dict.fromkeys(values))
    return list(names)


def _cells(values: dict, metrics: list[str], best: dict) -> str:
    cells = []
    for metric in metrics:
        if metric not in values:
            cells.append('<td data-value="NaN">&ndash;</td>')
            continue
        value = values[metric]
        mark = ' class="best"' if best.get(metric) == value else ""
        cells.append(f'<td data-value="{value!r}"{mark}>{value:.4f}</td>')
    return "".join(cells)


def _best(rows: list[dict], metrics: list[str]) -> dict:
    best = {}
    for metric in metrics:
        values = [row[metric] for row in rows if metric in row]
        if values:
            best[metric] = max(values)
    return best


def results_table(results: dict, metrics: list[str]) -> str:
    """Mean scores, one row per method (id="results")."""
    best = _best([r["mean"] for r in results.values()], metrics)
    head = "".join(f"<th>{_e(m)}</th>" for m in metrics)
    rows = "".join(
        f'<tr><td class="name">{_e(name)}</td>'
        f'{_cells(result["mean"], metrics, best)}</tr>'
        for name, result in results.items()
    )
    return (
        f'<table id="results" class="sortable"><thead><tr><th>method</th>{head}'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def per_image_table(results: dict, metrics: list[str], images: list[str]) -> str:
    """One row per (image, method), the best method per image and column marked."""
    head = "".join(f"<th>{_e(m)}</th>" for m in metrics)
    rows = []
    for image in images:
        values = {n: r["per_image"].get(image, {}) for n, r in results.items()}
        best = _best(list(values.values()), metrics)
        rows.extend(
            f'<tr><td class="name">{_e(image)}</td><td class="name">{_e(name)}</td>'
            f"{_cells(scores, metrics, best)}</tr>"
            for name, scores in values.items()
        )
    return (
        '<table id="per-image" class="sortable"><thead><tr><th>image</th>'
        f"<th>method</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _thumb_size(size: tuple[int, int]) -> tuple[int, int]:
    height, width = size
    scale = min(1.0, THUMB_SIZE / max(height, width))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _figure(src: str, href: str, caption: str, size: tuple[int, int]) -> str:
    width, height = _thumb_size(size)
    return (
        f'<figure><a href="{_e(href)}"><img src="{_e(src)}" loading="lazy" '
        f'width="{width}" height="{height}" alt="{_e(caption)}"></a>'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _caption(label: str, scores: dict | None) -> str:
    if scores is None:
        return f"<b>{_e(label)}</b>"
    if not scores:
        return f"<b>{_e(label)}</b><br>not scored"
    text = "<br>".join(f"{_e(m)} {v:.3f}" for m, v in scores.items())
    return f"<b>{_e(label)}</b><br>{text}"


REFERENCE_NOTES = {
    None: "No ground truth: shown, not scored; the crop is where the shown "
    "pictures differ most.",
    "linear": "Linear ground truth: scored with the metrics above.",
    "display": "Display-referred ground truth (stored tone-mapped with OpenCV's "
    "Reinhard): each radiance output is tone-mapped with OpenCV's default Reinhard "
    "and compared in display space (psnr_display, ssim_display); a display output "
    "(Mertens) as it is.",
}


def example_section(example: ExampleImages, colorbar: str) -> str:
    """The pictures, error maps and crops of one example."""
    x, y, size = example.crop_box
    main = "".join(
        _figure(p.thumb, p.full, _caption(p.label, p.scores), example.size)
        for p in example.pictures
    )
    errors = "".join(
        _figure(p.error_thumb, p.error, f"<b>{_e(p.label)}</b> error", example.size)
        for p in example.pictures
        if p.error
    )
    if errors:
        errors = (
            f'<div class="row errors">{errors}<figure><img src="{_e(colorbar)}" '
            f'width="256" height="14" alt="colour bar">0 &rarr; {ERROR_RANGE:g} '
            "(|difference| of the scored views)</figure></div>"
        )
    crops = "".join(
        f'<figure class="crop"><a href="{_e(p.full)}"><img src="{_e(p.crop)}" '
        f'loading="lazy" alt="{_e(p.label)} crop"></a>{_e(p.label)}</figure>'
        for p in example.pictures
    )
    return (
        f'<section class="example"><h3>{_e(example.name)}</h3>'
        f'<p class="note">{REFERENCE_NOTES[example.reference_kind]}</p>'
        f'<div class="row pictures">{main}</div>{errors}'
        f'<p class="note">Crop {size}x{size} px at x={x}, y={y}: where the '
        "methods disagree most.</p>"
        f'<div class="row crops">{crops}</div></section>'
    )


def write_page(path: Path, document: dict, examples: list[ExampleImages]) -> None:
    """Writes the report page (module docstring) and its colour bar."""
    path = Path(path)
    colorbar = write_colorbar(path.parent)
    results = document["results"]
    metrics = _metric_names(results)
    settings = document["settings"]
    names = ", ".join(results)
    body = (
        f"<h1>Comparison: {_e(names)}</h1>"
        f'<p class="settings">Data: {_e(document["data_description"])} '
        f'({_e(document["input_kind"])} input). Settings: crop_border '
        f'{settings["crop_border"]}, align_exposure {_e(settings["align_exposure"])},'
        f' PU21 peak {settings["peak_luminance"]:g} cd/m&sup2;. '
        f'Tone mapping of the pictures: <b id="tonemap">'
        f'{_e(document["tonemap"]["description"])}</b> (<code>--tonemap</code>). '
        "Error maps: |mu-law(prediction/peak) - mu-law(reference/peak)| (against a "
        "display-referred ground truth: |Reinhard view - ground truth|). All "
        "metrics: higher is better; best per column in bold. Click a column to "
        "sort, a picture for its full size.</p>"
        "<h2>Mean scores</h2>"
        f"{results_table(results, metrics)}"
        "<h2>Per image</h2>"
        f"{per_image_table(results, metrics, [e.name for e in examples])}"
        "<h2>Examples</h2>"
        + "".join(example_section(example, colorbar) for example in examples)
    )
    path.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>hdr-keras comparison: {_e(names)}</title>"
        f"<style>{STYLE}</style></head><body>{body}"
        f"<script>{SCRIPT}</script></body></html>\n"
    )
