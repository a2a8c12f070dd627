"""Training-free (classic) HDR methods, written in TensorFlow ops.

- `debevec`: Debevec & Malik 1997, camera response recovery from the stack itself
  (Grossberg 2003 histogram sampling + `g_solve`) and the log-domain
  triangle-weighted radiance merge.
- `mertens`: Mertens, Kautz & Van Reeth 2007 exposure fusion (contrast, saturation,
  well-exposedness weights; Laplacian pyramid blending), a display image.

Every function runs eagerly and inside `tf.function`/SavedModels with dynamic
frame counts and image sizes, so the registry models `debevec`, `mertens` (and the
single-image `inverse_curve`) serve over gRPC like the trained methods. The
public functions hold no Python control flow on tensors and are marked
`do_not_convert`: AutoGraph would only slow their tracing down (about 5x).
"""
