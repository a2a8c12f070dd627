"""Evaluation of a trained model against a baseline on held-out data.

Single-image methods are scored on (ldr, hdr) pairs made by the virtual camera with
fixed seeds. Before scoring, the prediction and the reference are both divided by
the reference's maximum, so the reference lies in [0, 1] as `hdr_keras.metrics`
expects (PSNR-L, PSNR-mu and SSIM-mu then compare absolute radiance, which the
camera's exposure makes well defined). The baseline "inverse camera curve only" is
f^-1(D) = D ** 2, HDRCNN's own linearisation without hallucinated highlights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import tensorflow as tf

from hdr_keras import metrics
from hdr_keras.ops.highlight import linearize_hdrcnn

METRICS: dict[str, Callable] = {
    "psnr_mu": metrics.psnr_mu,
    "psnr_l": metrics.psnr_l,
    "ssim_mu": metrics.ssim_mu,
}


def score(reference: tf.Tensor, prediction: tf.Tensor) -> dict[str, float]:
    """Metrics of one [1, H, W, 3] prediction, after normalising by the reference max."""
    peak = tf.reduce_max(reference)
    reference, prediction = reference / peak, prediction / peak
    return {
        name: float(np.mean(fn(reference, prediction))) for name, fn in METRICS.items()
    }


def evaluate_single_image(
    predictors: dict[str, Callable[[tf.Tensor], tf.Tensor]],
    pairs: Iterable,
) -> dict[str, dict]:
    """Scores each predictor (ldr [1,H,W,3] -> linear hdr) on every (ldr, hdr, name).

    Returns {predictor: {"mean": {metric: value}, "per_image": {name: {metric: value}}}}.
    """
    per_image: dict[str, dict[str, dict[str, float]]] = {
        name: {} for name in predictors
    }
    for ldr, hdr, image_name in pairs:
        image_name = (
            image_name.numpy().decode() if hasattr(image_name, "numpy") else image_name
        )
        for name, predict in predictors.items():
            per_image[name][image_name] = score(hdr, predict(ldr))
    results = {}
    for name, images in per_image.items():
        if not images:
            raise ValueError("evaluation data is empty")
        mean = {m: float(np.mean([v[m] for v in images.values()])) for m in METRICS}
        results[name] = {"mean": mean, "per_image": images}
    return results


def inverse_curve_baseline(ldr: tf.Tensor) -> tf.Tensor:
    """Baseline: linearise with HDRCNN's inverse camera curve only (no hallucination)."""
    return linearize_hdrcnn(ldr)


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
