"""Export: Keras model -> versioned SavedModel in a TF Serving model repository.

- `savedmodel`: `export_model` (atomic versioned export with the serving
  signatures and the metadata asset), `export_to_repository`, the CLI
  (`python -m serving.export --model=X.keras --base_path=DIR --name=NAME`).
- `signatures`: the serving functions (float and encoded-image inputs).
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
