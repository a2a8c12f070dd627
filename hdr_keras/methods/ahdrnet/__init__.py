"""AHDRNet, Yan et al. 2019: attention-guided stack merging (METHODS.md §3).

- `model`: `build_ahdrnet`; `attention`, `drdb`: its layers;
- `spec`: parts for freezing, default schedules, the `MethodSpec`.
"""

from hdr_keras.methods.ahdrnet.model import STRIDE, build_ahdrnet
from hdr_keras.methods.ahdrnet.spec import SPEC

SPECS = (SPEC,)

__all__ = ["SPEC", "SPECS", "STRIDE", "build_ahdrnet"]
