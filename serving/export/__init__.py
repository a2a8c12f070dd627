"""Export: Keras model -> versioned SavedModel in a TF Serving model repository.

- `savedmodel`: `export_to_repository` and the CLI (`python -m serving.export
  --model=X.keras --base_path=DIR --name=NAME`); the SavedModel itself (signatures,
  metadata asset, atomic versions) is written by `hdr_keras.export`, whose
  `export_model` is re-exported here;
- `repository`: `models.config` and `batching.config`.
"""

from serving.export.savedmodel import (
    INPUT_KINDS,
    build_archive,
    export_from_keras_file,
    export_model,
    export_to_repository,
    infer_input_kind,
    main,
    next_version,
)

__all__ = [
    "INPUT_KINDS",
    "build_archive",
    "export_from_keras_file",
    "export_model",
    "export_to_repository",
    "infer_input_kind",
    "main",
    "next_version",
]
