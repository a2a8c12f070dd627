"""Optical flow and warping in TensorFlow ops, for Kalantari & Ramamoorthi's alignment.

TensorFlow has no optical flow and tensorflow-addons (`dense_image_warp`) is dead, so
this package provides (all TF ops, dynamic H and W, usable inside `tf.function` and
SavedModels):

- `warp(image, flow, interpolation)` (`warping.py`): image(p + flow(p)) with bilinear
  or bicubic (Keys, a = -0.5, as MATLAB's `interp2(..., 'cubic')`) interpolation;
  samples outside the frame clamp to the border; differentiable w.r.t. the image
  and the flow.
- `outside_mask(flow)` (`warping.py`): where p + flow(p) leaves the frame.
- `estimate_flow(reference, moving)` (`estimate.py`): Ce Liu's coarse-to-fine
  variational optical flow (the code Kalantari's alignment calls, METHODS.md
  section 1), such that `warp(moving, flow)` matches `reference`; its Gaussian
  pyramid and filters are in `pyramid.py`, the solver of one pyramid level (IRLS
  and red-black SOR) in `solver.py`.

Stack alignment with the flow (`reexpose`, `align_stack`) and the homography
pre-alignment live in `hdr_keras.ops.alignment`.

Flow convention: [B, H, W, 2] in pixels, channel 0 = dy (rows), channel 1 = dx
(columns). Pixel p = (y, x) of the output samples the input at (y + dy, x + dx);
coordinates are pixel centres, 0 .. H-1 and 0 .. W-1.
"""

from hdr_keras.ops.flow.estimate import estimate_flow
from hdr_keras.ops.flow.warping import INTERPOLATIONS, KEYS_A, outside_mask, warp

__all__ = ["INTERPOLATIONS", "KEYS_A", "estimate_flow", "outside_mask", "warp"]
