"""Mixed precision, Keras 3's ``keras.mixed_precision`` names.

    pydl.mixed_precision.set_global_policy("mixed_bfloat16")
    model = pydl.Sequential([...])          # its layers compute in bfloat16
    pydl.mixed_precision.global_policy()    # <DTypePolicy "mixed_bfloat16">

Variables, optimizer slots and updates stay float32; Dense's matrix products read
bfloat16-rounded operands and sum in float32 on CPUs with AVX512_BF16
(``pydl.show_config()["bf16"]``); elsewhere the float32 kernels run after a
one-time warning. docs/mixed_precision.md has the details.
"""

from __future__ import annotations

from .dtype_policies import DTypePolicy
from .dtype_policies import dtype_policy
from .dtype_policies import dtype_policy as global_policy
from .dtype_policies import set_dtype_policy
from .dtype_policies import set_dtype_policy as set_global_policy

Policy = DTypePolicy  # Keras' legacy name

__all__ = ["DTypePolicy", "Policy", "dtype_policy", "global_policy", "set_dtype_policy",
           "set_global_policy"]
