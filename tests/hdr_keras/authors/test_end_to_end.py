"""The authors' checkpoints through the command lines (issue 14 req. 4 and 5):
`serving.export --authors_weights`, `serving.predict --authors_weights` on a real
bracket (`training.main --init_from`: tests/training/test_init_from_authors.py).
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import tensorflow as tf

import hdr_keras
from hdr_keras.io import read_image, write_image
from tests.hdr_keras.authors.authors_helpers import reference_dir

FROBISHER = ("IMG_2600.jpg", "IMG_2601.jpg", "IMG_2602.jpg")
FROBISHER_TIMES = (0.125, 1.0, 8.0)  # seconds (EXIF; SOURCES.md)


def test_export_cli_writes_the_authors_ahdrnet(shared_data, tmp_path):
    from serving.export import savedmodel

    checkpoint = reference_dir(shared_data, "ahdrnet") / "ahdr_model.pt"
    path = savedmodel.main(
        [
            "--method=ahdrnet",
            f"--authors_weights={checkpoint}",
            f"--base_path={tmp_path}",
            "--name=ahdrnet",
            "--jit_compile=off",
        ]
    )
    metadata = json.loads((path / "assets.extra" / "hdr_keras.json").read_text())
    assert metadata["method"] == "ahdrnet"
    rng = np.random.default_rng(0)
    ldr = rng.uniform(0, 1, (1, 3, 24, 40, 3)).astype("float32")
    exposure = np.array([[0.0, 2.0, 4.0]], "float32")
    served = tf.saved_model.load(str(path)).signatures["serving_default"]
    hdr = served(ldr=tf.constant(ldr), exposure=tf.constant(exposure))["hdr"]
    model = hdr_keras.load_authors_weights("ahdrnet", checkpoint)
    expected = model({"ldr": ldr, "exposure": exposure})
    # The SavedModel runs the same float32 graph through tf.function: relative
    # 1e-4 of the output (as every export-equality test of the package).
    np.testing.assert_allclose(hdr, expected, rtol=1e-4, atol=1e-6)


def _small_frobisher(shared_data, tmp_path, width: int = 240):
    """The frobisher_001 bracket resized (INTER_AREA) to `width`, as 16-bit PNGs,
    with its exposure times file (EXIF does not survive the resize)."""
    folder = shared_data / "colour_hdri_tests" / "frobisher_001"
    paths = []
    for name in FROBISHER:
        image = read_image(folder / name)
        height = round(image.shape[0] * width / image.shape[1])
        small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        paths.append(tmp_path / name.replace(".jpg", ".png"))
        write_image(paths[-1], small, bit_depth=16)
    times = tmp_path / "times.txt"
    times.write_text("".join(f"{t}\n" for t in FROBISHER_TIMES))
    return [str(p) for p in paths], str(times)


@pytest.mark.slow
def test_predict_cli_merges_a_real_bracket_with_the_authors_kalantari(
    shared_data, tmp_path
):
    """Kalantari's trained WE network (the authors' Net.mat) with in-graph flow on
    the real frobisher_001 bracket agrees with the training-free Debevec merge:
    log luminance correlates (r > 0.95) where some frame is well exposed."""
    from serving import predict

    net = reference_dir(shared_data, "kalantari_we") / "Net.mat"
    inputs, times = _small_frobisher(shared_data, tmp_path)
    outputs = {}
    for method, extra in (
        ("kalantari_we", [f"--authors_weights={net}"]),
        ("debevec", []),
    ):
        out = tmp_path / f"{method}.exr"
        code = predict.main(
            [
                f"--method={method}",
                *extra,
                "--inputs",
                *inputs,
                f"--exposure_times_file={times}",
                f"--output={out}",
            ]
        )
        assert code == 0
        outputs[method] = read_image(out)
    frames = np.stack([read_image(p) for p in inputs])
    # Pixels well exposed in some frame (neither black nor clipped there).
    usable = np.any(np.all((frames > 0.05) & (frames < 0.95), axis=-1), axis=0)
    weights = np.array([0.2126, 0.7152, 0.0722], "float32")
    logs = {
        m: np.log(np.maximum(hdr @ weights, 1e-6))[usable]
        for m, hdr in outputs.items()
    }
    assert usable.mean() > 0.5
    r = np.corrcoef(logs["kalantari_we"], logs["debevec"])[0, 1]
    print(f"log-luminance correlation kalantari_we vs debevec: r = {r:.4f}")
    assert r > 0.95
