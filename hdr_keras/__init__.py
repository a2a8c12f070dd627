"""hdr-keras: HDR image reconstruction with Keras 3 (multi-exposure and single-image).

Importing the package registers every custom layer, initialiser, loss and metric
with Keras, so `keras.saving.load_model` restores saved models in safe mode.
"""

from hdr_keras import layers as _layers  # noqa: F401  (registration side effects)
from hdr_keras import losses, metrics  # noqa: F401
from hdr_keras.finetune import freeze, load_model, unfreeze
from hdr_keras.registry import build_model, get_method, list_methods
from hdr_keras.authors import AuthorsWeightsError, load_authors_weights  # noqa: F401

__version__ = "0.1.0"

__all__ = [
    "build_model",
    "freeze",
    "get_method",
    "list_methods",
    "load_model",
    "unfreeze",
    "__version__",
]
