"""Source "synthetic": procedural HDR scenes from `hdr_keras.synthetic`, by seed."""

from __future__ import annotations

from typing import Iterator

from hdr_keras.synthetic.scenes import generate_scene
from tfrecords.schema import encode_hdr_example


def synthetic_hdr_records(
    num_scenes: int, height: int, width: int, first_seed: int = 0
) -> Iterator[bytes]:
    """Serialised "hdr" examples of scenes first_seed .. first_seed + num_scenes - 1."""
    for seed in range(first_seed, first_seed + num_scenes):
        yield encode_hdr_example(
            generate_scene(seed, height, width), f"synthetic-{seed:06d}"
        )
