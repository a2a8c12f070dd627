"""Writes the files of `pre_redesign/`: models saved by hdr-keras before the
"one home per method" redesign (commit b706bba), for the compatibility tests.

    git worktree add /tmp/old b706bba && cd /tmp/old && \
        python tests/compat/make_fixtures.py --out=<repo>/tests/compat/pre_redesign

Run it with the OLD code (the point of the files is that today's code did not write
them). For every registered method it writes
- `<method>.keras`: the model as `model.save` writes it, learned weights all zero
  (`weights.zero_weights`) so the file compresses to a few kB (re-zipped with deflate; Keras reads both);
- `<method>.savedmodel.tar.xz`: `serving.export.export_model` of the same model
  (version folder `1`);
- `outputs.npz`: the inputs of each input kind (`single/ldr`, `stack/ldr`,
  `stack/exposure`) and per method the Keras output with `weights.set_deterministic_weights` applied
  (`<method>/keras`), and the SavedModel's `serving_default` outputs with its zero
  weights (`<method>/saved_hdr`, `<method>/saved_tonemapped`).
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def inputs_for(kind: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    if kind == "stack":
        base = rng.uniform(0.05, 0.6, (1, 1, 37, 45, 3))
        gains = np.array([0.25, 1.0, 4.0]).reshape(1, 3, 1, 1, 1)
        ldr = np.clip(base * gains + rng.normal(0, 0.01, (1, 3, 37, 45, 3)), 0, 1)
        return {
            "ldr": ldr.astype("float32"),
            "exposure": np.float32([[0.0, 2.0, 4.0]]),
        }
    return {"ldr": rng.uniform(0, 1, (1, 37, 45, 3)).astype("float32")}


def deflate(path: Path) -> None:
    packed = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(
        packed, "w", zipfile.ZIP_DEFLATED, compresslevel=9
    ) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    packed.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    import tensorflow as tf

    import hdr_keras
    from serving.export import export_model
    from weights import set_deterministic_weights, zero_weights

    arrays = {}
    for method in hdr_keras.list_methods():
        spec = hdr_keras.get_method(method)
        inputs = inputs_for(spec.input_kind)
        feed = inputs if spec.input_kind == "stack" else inputs["ldr"]
        for name, value in inputs.items():
            arrays[f"{spec.input_kind}/{name}"] = value
        model = hdr_keras.build_model(method)
        set_deterministic_weights(model)
        arrays[f"{method}/keras"] = np.asarray(model(feed, training=False))
        zero_weights(model)
        model.save(out / f"{method}.keras")
        deflate(out / f"{method}.keras")
        with tempfile.TemporaryDirectory() as tmp:
            version = export_model(model, Path(tmp) / method, spec.input_kind, 1)
            served = tf.saved_model.load(str(version)).signatures["serving_default"]
            result = served(**{k: tf.constant(v) for k, v in inputs.items()})
            arrays[f"{method}/saved_hdr"] = result["hdr"].numpy()
            arrays[f"{method}/saved_tonemapped"] = result["tonemapped"].numpy()
            with tarfile.open(out / f"{method}.savedmodel.tar.xz", "w:xz") as tar:
                tar.add(version, arcname="1")
        print(method, {k: v.shape for k, v in arrays.items() if k.startswith(method)})
    np.savez_compressed(out / "outputs.npz", **arrays)


if __name__ == "__main__":
    main()
