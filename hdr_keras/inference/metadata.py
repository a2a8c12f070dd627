"""The metadata every exported SavedModel carries: `assets.extra/hdr_keras.json`.

    {"format": 1, "method": "eilertsen", "input_kind": "single",
     "output_kind": "linear", "stride": 32, "whole_image": false,
     "hdr_keras_version": "0.1.0",
     "jit_compile": {"mode": "auto", "compiled": true, "reason": "...", ...}}

`assets.extra/` is the SavedModel folder for files that are not part of the graph
(TF Serving reads only its warm-up file there and ignores the rest), so the file
travels with the version folder and loaders read it without loading the model.
`method` is None for a model that is not a registered method; `stride` is then
None (unknown). `jit_compile` records whether the serving functions run the model
through XLA and why (`hdr_keras.export.xla`: the mode asked for, and for "auto" the
measured times and the machine's CPU flags and oneDNN state); None in exports
older than it. SavedModels exported before this file existed have none:
`read_metadata` returns None and the loaders fall back to the folder name
(`hdr_keras.inference.backends`).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

METADATA_DIR = "assets.extra"
METADATA_FILE = "hdr_keras.json"
FORMAT = 1
LINEAR, DISPLAY = "linear", "display"  # hdr_keras.registry output kinds


@dataclasses.dataclass(frozen=True)
class ModelMetadata:
    """What a loader needs to know about an exported model.

    Attributes:
        input_kind: "single" or "stack" (the serving signature).
        method: registered method name, or None.
        output_kind: "linear" (radiance) or "display" (an image in [0, 1]).
        stride: spatial multiple the network pads to (tiles align to it), or None.
        whole_image: the method needs the whole image at once (never tiled).
        hdr_keras_version: the version that wrote the export.
        jit_compile: the XLA decision of the export ("mode", "compiled",
            "reason", measurements), or None.
    """

    input_kind: str
    method: str | None = None
    output_kind: str = LINEAR
    stride: int | None = None
    whole_image: bool = False
    hdr_keras_version: str = ""
    jit_compile: dict | None = None

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **dataclasses.asdict(self)}, indent=2)

    @classmethod
    def from_json(cls, text: str, where: str = "metadata") -> "ModelMetadata":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: invalid JSON ({error})") from None
        if not isinstance(values, dict) or "input_kind" not in values:
            raise ValueError(f"{where}: not an hdr-keras metadata object")
        fields = {field.name for field in dataclasses.fields(cls)}
        # Unknown keys (written by a newer version) are ignored.
        return cls(**{key: value for key, value in values.items() if key in fields})


def metadata_for(
    input_kind: str, method: str | None = None, version: str | None = None
) -> ModelMetadata:
    """The metadata of a model of `input_kind`, completed from the registry entry
    of `method` (stride, output kind, whole image) when it is registered."""
    from hdr_keras import __version__
    from hdr_keras.registry import get_method

    version = version or __version__
    if method is None:
        return ModelMetadata(input_kind, hdr_keras_version=version)
    spec = get_method(method)
    if spec.input_kind != input_kind:
        raise ValueError(
            f"method {spec.name} takes {spec.input_kind} input, not {input_kind}"
        )
    return ModelMetadata(
        input_kind=input_kind,
        method=spec.name,
        output_kind=spec.output_kind,
        stride=int(spec.stride),
        whole_image=bool(spec.whole_image),
        hdr_keras_version=version,
    )


def metadata_path(saved_model_dir: str | Path) -> Path:
    return Path(saved_model_dir) / METADATA_DIR / METADATA_FILE


def write_metadata(saved_model_dir: str | Path, metadata: ModelMetadata) -> Path:
    """Writes `<saved_model_dir>/assets.extra/hdr_keras.json`; returns its path."""
    path = metadata_path(saved_model_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(metadata.to_json() + "\n", encoding="utf-8")
    return path


def read_metadata(saved_model_dir: str | Path) -> ModelMetadata | None:
    """The metadata of a SavedModel version folder; None when it has none (an
    export older than the file). ValueError when the file is unreadable."""
    path = metadata_path(saved_model_dir)
    if not path.is_file():
        return None
    return ModelMetadata.from_json(path.read_text(encoding="utf-8"), str(path))
