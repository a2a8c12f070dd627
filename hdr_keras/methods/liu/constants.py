"""SingleHDR's network and loss constants (Liu et al. 2020, METHODS.md section 5).

The formation-model constants (`LIU_HDR_MEAN`, `LIU_EXPOSURE_STOPS_RANGE`, ...) stay
in `hdr_keras.constants`: the camera-shot writer (`hdr_keras.ops.camera_singlehdr`)
uses them too.
"""

LIU_TAU = 0.88  # Hallucination-Net mask threshold of the official code (thr = 0.12)
LIU_TAU_PAPER = 0.95  # the threshold the paper states
LIU_LOG_GAIN = 10.0  # loss domain log(1 + 10 x) / log(1 + 10)
LIU_CURVE_LOSS_WEIGHT = 0.1  # linearisation: L2(image) + 0.1 L2(inverse curve)
LIU_PERCEPTUAL_WEIGHT = 0.001  # hallucination: + 0.001 VGG16 pool1-3 L1
LIU_TV_WEIGHT = 0.1  # hallucination: + 0.1 total variation
