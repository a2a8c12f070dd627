"""Inference: run a trained model, a SavedModel or a training-free method on images.

- `backends`: a `Backend` maps one LDR tile to linear HDR; made from a `.keras`
  file, a SavedModel (version folder or model folder), a built Keras model or a
  registered training-free method (`load_backend`).
- `tiling`: overlapping tiles aligned to the model stride, blended seamlessly.
- `exposures`: a bracket's exposures in stops from a stops file, a shutter-times
  file or the files' EXIF.
- `files`: LDR files in, HDR (.exr/.hdr) + tonemapped PNG out (`predict_files`).
- `metadata`: the `hdr_keras.json` asset every exported SavedModel carries (method,
  input and output kind, stride, hdr-keras version).
- `versions`, `paths`: integer version folders and model-path resolution
  (`final.keras` of a training run, latest SavedModel version).
- `validation`: the run-time input checks shared by the serving signatures and the
  Keras backend.

`serving.predict` and `training.evaluate` are command lines over this package.
"""
