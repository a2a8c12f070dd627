"""Camera shots: "hdr" examples -> "camera" examples through SingleHDR's formation
model (`hdr_keras.ops.camera_singlehdr`), for method "liu".

Any source of "hdr" examples feeds it (`synthetic`, `hdr_folder`), so the images
are read, checked and resized exactly as for the other single-image methods.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from hdr_keras.ops.camera_singlehdr import SingleHDRCameraConfig, singlehdr_camera
from hdr_keras.ops.crf import CurveBasis
from tfrecords.schema import decode_hdr_example, encode_camera_example


def camera_shot_records(
    hdr_records: Iterable[bytes],
    basis: CurveBasis,
    seed: int = 0,
    shots_per_image: int = 1,
    config: SingleHDRCameraConfig = SingleHDRCameraConfig(),
) -> Iterator[bytes]:
    """Serialised "camera" examples, `shots_per_image` per "hdr" example.

    Shot j of the i-th image uses numpy's Generator seeded with (seed, i, j), so a
    run is reproducible and every shot has its own exposure, noise, curve and JPEG
    quality. Names are the image's name, plus "#j" when shots_per_image > 1.
    """
    if shots_per_image < 1:
        raise ValueError(f"--shots_per_image must be >= 1, got {shots_per_image}")
    for index, record in enumerate(hdr_records):
        name, hdr = decode_hdr_example(record)
        for shot in range(shots_per_image):
            rng = np.random.default_rng([seed, index, shot])
            label = name if shots_per_image == 1 else f"{name}#{shot}"
            yield encode_camera_example(
                singlehdr_camera(hdr, rng, basis, config), label
            )
