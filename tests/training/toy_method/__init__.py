"""A toy sixth method family, test-only: a package laid out as
`hdr_keras.methods.<family>` (model, its own layer, spec) that
`tests/training/test_new_method.py` registers and trains through the apps
without editing them (docs/adding-a-method.md)."""

from toy_method.spec import SINGLE_SPEC, STACK_SPEC

SPECS = (SINGLE_SPEC, STACK_SPEC)
