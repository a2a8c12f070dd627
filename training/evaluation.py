"""Scoring HDR predictions: metrics, baselines, tables and reports.

Used by `training.main` (held-out evaluation after training) and by the
`training.evaluate` CLI; it imports neither `serving` nor the CLIs.

Metrics (`hdr_keras.metrics`): PSNR-mu, PSNR-L, SSIM-mu, SSIM-L on linear HDR whose
reference lies in [0, 1], and PU21-PSNR, PU21-SSIM on absolute luminance:
- stack methods: targets are already in [0, 1] (Kalantari's convention: radiance in
  the units of the shortest exposure); predictions are scored as they are;
- single-image methods: the target's scale is set by the camera (the LDR saturates
  at 1, highlights go far above), so prediction and reference are both divided by
  the reference's maximum before scoring;
- PU21 (`hdr_keras.pu21`): both images are multiplied by one factor that maps the
  reference's maximum to `peak_luminance` cd/m^2 (default 4000, an HDR display),
  then PU21-encoded.
Before scoring, `ScoreSettings.align_exposure` can rescale each prediction to the
reference (`hdr_keras.metrics.align_exposure`: single-image predictions are only
defined up to the exposure; the CLI does it by default for single-image models), and
`crop_border` drops that many pixels on every side (Kalantari et al. crop 50).

`evaluate()` with default settings scores PSNR-mu, PSNR-L and SSIM-mu without
alignment or crop (training.main's held-out evaluation).

Baselines, on exactly the same inputs:
- single: "inverse camera curve only", f^-1(D) = D ** 2 (HDRCNN's linearisation,
  no hallucinated highlights);
- stack: the reference frame alone, linearised; and a triangle-weighted merge of all
  frames without alignment (it ghosts where things move).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from hdr_keras import metrics
from hdr_keras.constants import (
    PSNR_CAP_DB,
    PU21_DEFAULT_VARIANT,
    PU21_PEAK_LUMINANCE,
    SSIM_FILTER_SIZE,
)
from hdr_keras.ops.merge import reference_linearized, triangle_merge
from hdr_keras.ops.stack import default_reference
from hdr_keras.pu21 import VARIANTS as PU21_VARIANTS
from hdr_keras.registry import build_model
from hdr_keras.spec import SINGLE

# Metrics of linear HDR normalised so that the reference lies in [0, 1].
RELATIVE_METRICS: dict[str, Callable] = {
    "psnr_mu": metrics.psnr_mu,
    "psnr_l": metrics.psnr_l,
    "ssim_mu": metrics.ssim_mu,
    "ssim_l": metrics.ssim_l,
}
# Metrics of absolute linear RGB in cd/m^2 (PU21 variant as keyword).
ABSOLUTE_METRICS: dict[str, Callable] = {
    "pu21_psnr": metrics.pu21_psnr,
    "pu21_ssim": metrics.pu21_ssim,
}
ALL_METRICS = tuple(RELATIVE_METRICS) + tuple(ABSOLUTE_METRICS)
# The default set (training.main's held-out evaluation).
METRICS: dict[str, Callable] = {
    name: RELATIVE_METRICS[name] for name in ("psnr_mu", "psnr_l", "ssim_mu")
}
_SSIM_METRICS = ("ssim_mu", "ssim_l", "pu21_ssim")


@dataclasses.dataclass(frozen=True)
class ScoreSettings:
    """How predictions are scored (see the module docstring).

    Attributes:
        metrics: names from ALL_METRICS, in table order.
        crop_border: pixels dropped on every side before the metrics (>= 0).
        align_exposure: `hdr_keras.metrics.ALIGN_MODES`: "none", "log" or "linear".
        peak_luminance: cd/m^2 given to the reference's maximum for PU21 (> 0).
        pu21_variant: PU21 variant (`hdr_keras.pu21.VARIANTS`).
    """

    metrics: tuple[str, ...] = tuple(METRICS)
    crop_border: int = 0
    align_exposure: str = "none"
    peak_luminance: float = PU21_PEAK_LUMINANCE
    pu21_variant: str = PU21_DEFAULT_VARIANT

    def __post_init__(self):
        object.__setattr__(self, "metrics", tuple(self.metrics))
        unknown = [name for name in self.metrics if name not in ALL_METRICS]
        if unknown or not self.metrics:
            raise ValueError(
                f"--metrics: unknown metric(s) {', '.join(unknown) or '(none given)'}; "
                f"valid metrics: {', '.join(ALL_METRICS)}"
            )
        if self.crop_border < 0:
            raise ValueError(f"--crop_border must be >= 0, got {self.crop_border}")
        if self.align_exposure not in metrics.ALIGN_MODES:
            raise ValueError(
                f"--align_exposure must be one of {metrics.ALIGN_MODES}, "
                f"got {self.align_exposure!r}"
            )
        if not self.peak_luminance > 0:
            raise ValueError(
                f"--peak_luminance must be > 0 cd/m^2, got {self.peak_luminance}"
            )
        if self.pu21_variant not in PU21_VARIANTS:
            raise ValueError(
                f"--pu21_variant must be one of {PU21_VARIANTS}, "
                f"got {self.pu21_variant!r}"
            )


def crop_border(image: np.ndarray, border: int) -> np.ndarray:
    """[B, H, W, C] without `border` pixels on every side."""
    if border == 0:
        return image
    return image[:, border:-border, border:-border]


def _check_scored_size(shape: Sequence[int], settings: ScoreSettings) -> None:
    height = shape[1] - 2 * settings.crop_border
    width = shape[2] - 2 * settings.crop_border
    needed = (
        SSIM_FILTER_SIZE if any(m in _SSIM_METRICS for m in settings.metrics) else 1
    )
    if min(height, width) < needed:
        raise ValueError(
            f"--crop_border={settings.crop_border} leaves {max(height, 0)}x"
            f"{max(width, 0)} pixels of a {shape[1]}x{shape[2]} image; the metrics "
            f"need at least {needed}x{needed}"
        )


def score(
    reference,
    prediction,
    normalize: bool,
    settings: ScoreSettings | None = None,
    ldr=None,
) -> dict[str, float]:
    """Metrics of one [1, H, W, 3] prediction against its reference.

    Args:
        reference, prediction: linear HDR [1, H, W, 3].
        normalize: divide both by the reference's maximum for the relative metrics
            (single-image methods).
        settings: metrics, crop, exposure alignment, PU21 mapping (default:
            ScoreSettings(), i.e. PSNR-mu, PSNR-L, SSIM-mu as they are).
        ldr: the LDR input [1, H, W, 3] (the reference frame for stacks), used by
            the exposure alignment to leave saturated pixels out of the fit.
    """
    settings = settings or ScoreSettings()
    reference = np.asarray(reference, dtype=np.float32)
    prediction = np.asarray(prediction, dtype=np.float32)
    if reference.shape != prediction.shape:
        raise ValueError(
            f"prediction shape {prediction.shape} differs from the reference's "
            f"{reference.shape}"
        )
    _check_scored_size(reference.shape, settings)
    if settings.align_exposure != "none":
        aligned, _ = metrics.align_exposure(
            reference, prediction, ldr, settings.align_exposure
        )
        prediction = np.asarray(aligned)
    peak = float(np.max(reference))
    if not peak > 0:
        raise ValueError(f"the reference is black (max {peak}); it cannot be scored")
    reference = crop_border(reference, settings.crop_border)
    prediction = crop_border(prediction, settings.crop_border)
    scores = {}
    for name in settings.metrics:
        if name in ABSOLUTE_METRICS:
            factor = settings.peak_luminance / peak
            value = ABSOLUTE_METRICS[name](
                reference * factor, prediction * factor, settings.pu21_variant
            )
        else:
            divisor = peak if normalize else 1.0
            value = RELATIVE_METRICS[name](reference / divisor, prediction / divisor)
        scores[name] = float(np.mean(value))
    return scores


def baselines(input_kind: str) -> dict[str, Callable]:
    """Training-free predictors to compare a method of `input_kind` with."""
    if input_kind == SINGLE:
        # The registered training-free method `inverse_curve` (HDRCNN's f^-1(x) = x^2).
        inverse_curve = build_model("inverse_curve")
        return {"baseline_inverse_curve": lambda ldr: inverse_curve(ldr, training=False)}

    def reference_only(inputs):
        num_frames = inputs["ldr"].shape[1]
        return reference_linearized(
            inputs["ldr"], inputs["exposure"], default_reference(num_frames)
        )

    def unaligned_merge(inputs):
        return triangle_merge(inputs["ldr"], inputs["exposure"])

    return {
        "baseline_reference_frame": reference_only,
        "baseline_triangle_merge": unaligned_merge,
    }


def _input_ldr(inputs, input_kind: str):
    """The LDR image the prediction is aligned to: the input, or the reference frame."""
    if input_kind == SINGLE:
        return inputs
    ldr = inputs["ldr"]
    return ldr[:, default_reference(ldr.shape[1])]


def _image_name(name, seen: dict) -> str:
    if hasattr(name, "numpy"):
        name = name.numpy()
    name = name.decode() if isinstance(name, bytes) else str(name)
    if name in seen:  # two examples with one name: keep both rows
        name = f"{name}#{len(seen)}"
    return name


def evaluate(
    predictors: dict[str, Callable],
    examples: Iterable,
    input_kind: str,
    settings: ScoreSettings | None = None,
    progress: bool = False,
    total: int | None = None,
) -> dict[str, dict]:
    """Scores each predictor (inputs -> linear hdr) on every (inputs, hdr, name).

    Args:
        predictors: name -> callable(inputs) returning linear HDR [1, H, W, 3].
        examples: (inputs, hdr [1, H, W, 3], name) triples.
        input_kind: SINGLE (scores normalised by the reference's maximum) or STACK.
        settings: ScoreSettings (default: PSNR-mu, PSNR-L, SSIM-mu as they are).
        progress: show a tqdm progress bar (`total` examples, if known).

    Returns {predictor: {"mean": {metric: value}, "per_image": {name: {metric: value}}}}.
    """
    settings = settings or ScoreSettings()
    per_image: dict[str, dict[str, dict[str, float]]] = {
        name: {} for name in predictors
    }
    if progress:
        from tqdm import tqdm

        examples = tqdm(examples, total=total, unit="image", desc="evaluating")
    seen: dict[str, None] = {}
    for inputs, hdr, image_name in examples:
        image_name = _image_name(image_name, seen)
        seen[image_name] = None
        ldr = _input_ldr(inputs, input_kind)
        for name, predict in predictors.items():
            prediction = np.asarray(predict(inputs), dtype=np.float32)
            if not np.all(np.isfinite(prediction)):
                raise ValueError(
                    f"{name}: the prediction for {image_name} has NaN/Inf values"
                )
            try:
                per_image[name][image_name] = score(
                    hdr, prediction, input_kind == SINGLE, settings, ldr
                )
            except ValueError as error:
                raise ValueError(f"{image_name}: {error}") from None
    results = {}
    for name, images in per_image.items():
        if not images:
            raise ValueError("evaluation data is empty")
        mean = {
            m: float(np.mean([v[m] for v in images.values()])) for m in settings.metrics
        }
        results[name] = {"mean": mean, "per_image": images}
    return results


def format_table(results: dict[str, dict]) -> str:
    """A plain-text table of mean metrics, one row per predictor."""
    names = list(next(iter(results.values()))["mean"])
    header = f"{'':<28}" + "".join(f"{m:>11}" for m in names)
    rows = [
        f"{name:<28}" + "".join(f"{res['mean'][m]:>11.4f}" for m in names)
        for name, res in results.items()
    ]
    return "\n".join([header, *rows])


def write_json(results: dict, path: str | Path) -> None:
    """Writes results as indented JSON."""
    Path(path).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def write_csv(results: dict[str, dict], path: str | Path) -> None:
    """One row per (image, predictor): image, predictor, then each metric."""
    names = list(next(iter(results.values()))["mean"])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["image", "predictor", *names])
        for predictor, result in results.items():
            for image, values in result["per_image"].items():
                writer.writerow(
                    [image, predictor, *(f"{values[m]:.6f}" for m in names)]
                )
