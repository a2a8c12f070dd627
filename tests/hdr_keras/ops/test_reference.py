"""The default reference frame: one function (`hdr_keras.ops.stack.default_reference`)
used by the model builders, the synthetic stacks, the patch writer and the
Kalantari-folder reader."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from hdr_keras.ops.stack import check_stack_arguments, default_reference
from hdr_keras.synthetic.stacks import generate_stack
from tfrecords.patches import align_records
from tfrecords.schema import encode_stack_example
from tfrecords.sources.kalantari import KalantariScene

# The middle frame; for even N the upper middle (the longer middle exposure).
EXPECTED = {2: 1, 3: 1, 4: 2}


@pytest.mark.parametrize("num_frames", sorted(EXPECTED))
def test_default_reference_for_two_three_and_four_frames(num_frames):
    assert default_reference(num_frames) == EXPECTED[num_frames]
    # The same for a dynamic (tensor) frame count, as inside a SavedModel.
    assert int(default_reference(tf.constant(num_frames))) == EXPECTED[num_frames]
    # What a stack model built without `reference` uses.
    assert check_stack_arguments(num_frames, None) == EXPECTED[num_frames]


@pytest.mark.parametrize("num_frames", sorted(EXPECTED))
def test_data_writers_use_the_same_reference(num_frames, tmp_path):
    stack = generate_stack(1, 16, 16, num_frames=num_frames)
    assert stack["reference"] == EXPECTED[num_frames]
    frames = tuple(tmp_path / f"{i}.tif" for i in range(num_frames))
    scene = KalantariScene(
        tmp_path, "s", frames, tmp_path / "HDRImg.hdr", np.zeros(num_frames)
    )
    assert scene.reference == EXPECTED[num_frames]
    # The patch writer aligns every frame to the same reference.
    seen = []

    def align(frames, biases, reference):
        seen.append(reference)
        return frames

    record = encode_stack_example(
        stack["ldr"], stack["exposure"], stack["hdr"], "synthetic"
    )
    list(align_records([record], align))
    assert seen == [EXPECTED[num_frames]]
