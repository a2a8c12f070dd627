"""Final evaluation of single-image methods on real LDR/HDR pairs.

The pairs are Santos et al.'s (2020) quick-evaluation crops: `crops/000N.png`
(8-bit LDR input) and `crops/000N.exr` (the HDR reference of the same view), in
`marcelsan_sihdr_crops/crops` of the shared test data (`shared/data/SOURCES.md`).
`training.main` scores them after training a method whose spec lists REAL_PAIRS in
its `eval_extras` (SingleHDR) when the folder is found (`--real_pairs=DIR`, else
`$HDR_KERAS_TEST_DATA`, else `../shared/data` beside the repository), and any
single-image method when `--real_pairs` is given.

Predictors, side by side on the same inputs: the trained model, HDRCNN
(`--real_pairs_eilertsen=PATH`, a trained `eilertsen` .keras file or model_dir),
and the "inverse camera curve only" baseline (x^2, no hallucination).

Scoring (the field's convention for single-image HDR, whose output has no absolute
scale): each prediction is first multiplied by one factor per image,
`hdr_keras.metrics.align_exposure(mode="log")`: the least-squares fit of log
luminance over the pixels that are valid in both images and not saturated in the
LDR input (largest channel < 0.95), i.e. the geometric means agree there. Then, as
in the held-out evaluation (`training.evaluate`), prediction and reference are
divided by the reference's maximum and scored with PSNR-mu (mu-law, mu = 5000),
PSNR-L, SSIM-mu and SSIM-L.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


from hdr_keras.ops.crop import center_crop
from hdr_keras.registry import get_method
from hdr_keras.spec import REAL_PAIRS, SINGLE
from training import eval_data, evaluation

PAIRS_SUBDIR = Path("marcelsan_sihdr_crops") / "crops"
ALIGNMENT = "log"
PAIR_METRICS = ("psnr_mu", "psnr_l", "ssim_mu", "ssim_l")
REPO_ROOT = Path(__file__).resolve().parents[1]
# The trained model `--real_pairs_eilertsen` names, scored beside the model: the
# flag is about this one method (HDRCNN), whatever method is trained.
COMPARED_METHOD = "eilertsen"


def find_real_pairs(directory: str | Path | None = None) -> Path | None:
    """The pairs folder: `directory` (must exist), else the shared data's, else None.

    The shared data is $HDR_KERAS_TEST_DATA, or ../shared/data beside the repository.
    """
    if directory:
        path = Path(directory)
        if not path.is_dir():
            raise FileNotFoundError(f"--real_pairs: no such folder: {path}")
        return path
    root = os.environ.get("HDR_KERAS_TEST_DATA")
    root = Path(root) if root else REPO_ROOT.parent / "shared" / "data"
    path = root / PAIRS_SUBDIR
    return path if path.is_dir() else None


def load_real_pairs(directory: str | Path, crop: int | None = None) -> list:
    """[(ldr [1, H, W, 3], hdr [1, H, W, 3], name)] of every pair in `directory`.

    `crop`: keep the central crop x crop pixels (fast checks); None: whole images.
    Files are read with `hdr_keras.io` (`training.eval_data.read_pair`); errors name
    the files.
    """
    examples = []
    for ldr_path, hdr_path, name in eval_data.find_pairs(directory):
        ldr, hdr = eval_data.read_pair(ldr_path, hdr_path)
        if crop:
            ldr, hdr = center_crop(ldr, crop, crop), center_crop(hdr, crop, crop)
        examples.append((ldr[None], hdr[None], name))
    return examples


def evaluate_real_pairs(
    predictors: dict[str, Callable], examples: list
) -> dict[str, dict]:
    """Scores each predictor (ldr -> linear HDR) on the pairs, aligned as documented.

    Returns `training.evaluation.evaluate`'s {predictor: {"mean", "per_image"}}.
    """
    settings = evaluation.ScoreSettings(metrics=PAIR_METRICS, align_exposure=ALIGNMENT)
    return evaluation.evaluate(predictors, examples, SINGLE, settings)


def predictors_for(name: str, model, eilertsen_model=None) -> dict[str, Callable]:
    """{name: model, "eilertsen": HDRCNN (if given), the inverse-curve baseline}."""
    predictors = {name: lambda ldr: model(ldr, training=False)}
    if eilertsen_model is not None and name != COMPARED_METHOD:
        predictors[COMPARED_METHOD] = lambda ldr: eilertsen_model(ldr, training=False)
    predictors.update(evaluation.baselines(SINGLE))
    return predictors


def run(
    name: str,
    model,
    directory: str | Path,
    out_dir: str | Path,
    eilertsen_model=None,
    crop: int | None = None,
) -> dict[str, dict]:
    """Evaluates on the pairs in `directory`; writes `<out_dir>/real_pairs.json` and
    prints the table. Returns the results."""
    examples = load_real_pairs(directory, crop)
    results = evaluate_real_pairs(
        predictors_for(name, model, eilertsen_model), examples
    )
    evaluation.write_json(results, Path(out_dir) / "real_pairs.json")
    print(
        f"real LDR/HDR pairs ({len(examples)} in {directory}; prediction scaled to "
        f"the reference by a log-luminance fit on unsaturated pixels):"
    )
    print(evaluation.format_table(results))
    return results


def plan(
    method: str,
    input_kind: str,
    directory: str | None,
    eilertsen_path: str | None,
) -> tuple[Path | None, object]:
    """(pairs folder or None, loaded eilertsen model or None) for training.main.

    Checked before training so that a bad flag fails at once. The folder is used
    when found for methods whose spec lists REAL_PAIRS in `eval_extras` (SingleHDR),
    and for any single-image method with `--real_pairs`.
    Raises ValueError (naming the flag) on a bad combination or file.
    """
    if input_kind != SINGLE:
        if directory or eilertsen_path:
            raise ValueError(
                f"--real_pairs/--real_pairs_eilertsen: method {method!r} is not a "
                "single-image method"
            )
        return None, None
    try:
        folder = find_real_pairs(directory)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from None
    if directory is None and REAL_PAIRS not in get_method(method).eval_extras:
        folder = None
    if eilertsen_path and folder is None:
        raise ValueError(
            "--real_pairs_eilertsen needs the real pairs (--real_pairs=DIR or the "
            "shared data's marcelsan_sihdr_crops)"
        )
    eilertsen_model = None
    if eilertsen_path:
        import hdr_keras

        try:
            eilertsen_model = hdr_keras.load_model(eilertsen_path)
        except (FileNotFoundError, ValueError) as error:
            raise ValueError(f"--real_pairs_eilertsen: {error}") from None
        if eilertsen_model.name != COMPARED_METHOD:
            raise ValueError(
                f"--real_pairs_eilertsen={eilertsen_path} holds a "
                f"{eilertsen_model.name!r} model, not {COMPARED_METHOD!r}"
            )
    return folder, eilertsen_model
