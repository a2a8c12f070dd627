"""Export: a Keras model -> a versioned SavedModel that TensorFlow Serving loads.

- `savedmodel`: `export_model` (atomic versioned folder with the serving signatures
  and the metadata asset `assets.extra/hdr_keras.json`), `export_from_keras_file`,
  `build_archive`, `next_version`;
- `signatures`: the serving functions (float tensors and encoded images), with the
  input validation of `hdr_keras.inference.validation`;
- `xla`: whether those functions run the model through XLA (`jit_compile` "off",
  "on", or "auto": plain and XLA timed on this machine, the faster kept);
- `machine`: the CPU's instruction-set flags and oneDNN state recorded with it.

`training.main --export` and `python -m serving.export` (which adds the model
repository's `models.config` and `batching.config`) both write through here.
"""

from hdr_keras.export.savedmodel import (
    INPUT_KINDS,
    build_archive,
    export_from_keras_file,
    export_model,
    next_version,
)

__all__ = [
    "INPUT_KINDS",
    "build_archive",
    "export_from_keras_file",
    "export_model",
    "next_version",
]
