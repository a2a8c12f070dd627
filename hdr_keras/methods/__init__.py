"""One package per method family: builder(s), method-only layers, losses, constants,
parts for freezing, default schedules and the `MethodSpec`(s) (`spec.py`).

`hdr_keras.registry` lists the specs; shared layers, ops and losses live in
`hdr_keras.layers`, `hdr_keras.ops` and `hdr_keras.losses` (docs/architecture.md).
"""
