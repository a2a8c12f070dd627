"""Source "synthetic_stack": dynamic-scene exposure stacks from hdr_keras.synthetic."""

from __future__ import annotations

from typing import Iterator

from hdr_keras.synthetic.stacks import generate_stack
from tfrecords.schema import encode_stack_example


def synthetic_stack_records(
    num_stacks: int, height: int, width: int, first_seed: int = 0, num_frames: int = 3
) -> Iterator[bytes]:
    """Serialised "stack" examples of seeds first_seed .. first_seed + num_stacks - 1.

    Each is `generate_stack(seed, height, width, num_frames)`: frames short to long,
    biases {0, 2, 4} or {0, 3, 6} stops (for N = 3), target in Kalantari's units.
    """
    for seed in range(first_seed, first_seed + num_stacks):
        stack = generate_stack(seed, height, width, num_frames)
        yield encode_stack_example(
            stack["ldr"],
            stack["exposure"],
            stack["hdr"],
            f"synthetic-stack-{seed:06d}",
        )
