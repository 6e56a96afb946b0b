"""Keras 3's ``keras.config``: global settings.

    pydl.config.set_dtype_policy("mixed_bfloat16")
    pydl.config.dtype_policy()      # <DTypePolicy "mixed_bfloat16">
    pydl.config.floatx()            # "float32"

The same functions as ``pydl.mixed_precision`` and ``pydl.backend`` (floatx,
set_floatx, epsilon, image_data_format), where Keras 3 also puts them.
"""

from __future__ import annotations

from .backend import epsilon, floatx, image_data_format, set_floatx
from .dtype_policies import dtype_policy, set_dtype_policy

__all__ = ["dtype_policy", "epsilon", "floatx", "image_data_format", "set_dtype_policy",
           "set_floatx"]
