"""Evaluation of a trained model against baselines on held-out data.

Metrics: PSNR-mu, PSNR-L and SSIM-mu (`hdr_keras.metrics`), on linear HDR whose
reference lies in [0, 1]:
- stack methods: targets are already in [0, 1] (Kalantari's convention: radiance in
  the units of the shortest exposure); predictions are scored as they are;
- single-image methods: the target's scale is set by the virtual camera (the LDR
  saturates at 1, highlights go far above), so prediction and reference are both
  divided by the reference's maximum before scoring.

Baselines, on exactly the same inputs:
- single: "inverse camera curve only", f^-1(D) = D ** 2 (HDRCNN's linearisation,
  no hallucinated highlights);
- stack: the reference frame alone, linearised; and a triangle-weighted merge of all
  frames without alignment (it ghosts where things move).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import tensorflow as tf

from hdr_keras import metrics
from hdr_keras.ops.highlight import linearize_hdrcnn
from hdr_keras.ops.merge import reference_linearized, triangle_merge
from hdr_keras.ops.stack import default_reference
from hdr_keras.registry import SINGLE

METRICS: dict[str, Callable] = {
    "psnr_mu": metrics.psnr_mu,
    "psnr_l": metrics.psnr_l,
    "ssim_mu": metrics.ssim_mu,
}


def score(reference, prediction, normalize: bool) -> dict[str, float]:
    """Metrics of one [1, H, W, 3] prediction (optionally after dividing by ref max)."""
    if normalize:
        peak = tf.reduce_max(reference)
        reference, prediction = reference / peak, prediction / peak
    return {
        name: float(np.mean(fn(reference, prediction))) for name, fn in METRICS.items()
    }


def baselines(input_kind: str) -> dict[str, Callable]:
    """Training-free predictors to compare a method of `input_kind` with."""
    if input_kind == SINGLE:
        return {"baseline_inverse_curve": linearize_hdrcnn}

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


def evaluate(
    predictors: dict[str, Callable],
    examples: Iterable,
    input_kind: str,
) -> dict[str, dict]:
    """Scores each predictor (inputs -> linear hdr) on every (inputs, hdr, name).

    Returns {predictor: {"mean": {metric: value}, "per_image": {name: {metric: value}}}}.
    """
    per_image: dict[str, dict[str, dict[str, float]]] = {
        name: {} for name in predictors
    }
    for inputs, hdr, image_name in examples:
        image_name = (
            image_name.numpy().decode() if hasattr(image_name, "numpy") else image_name
        )
        for name, predict in predictors.items():
            per_image[name][image_name] = score(
                hdr, predict(inputs), input_kind == SINGLE
            )
    results = {}
    for name, images in per_image.items():
        if not images:
            raise ValueError("evaluation data is empty")
        mean = {m: float(np.mean([v[m] for v in images.values()])) for m in METRICS}
        results[name] = {"mean": mean, "per_image": images}
    return results


def format_table(results: dict[str, dict]) -> str:
    """A plain-text table of mean metrics, one row per predictor."""
    header = f"{'':<28}" + "".join(f"{m:>10}" for m in METRICS)
    rows = [
        f"{name:<28}" + "".join(f"{res['mean'][m]:>10.3f}" for m in METRICS)
        for name, res in results.items()
    ]
    return "\n".join([header, *rows])


def write_json(results: dict, path: str | Path) -> None:
    """Writes results as indented JSON."""
    Path(path).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
