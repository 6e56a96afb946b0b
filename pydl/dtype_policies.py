"""Dtype policies (Keras 3's ``keras.dtype_policies``): the dtypes a layer keeps its
variables in and computes in.

    pydl.mixed_precision.set_global_policy("mixed_bfloat16")   # every new layer
    layer = pydl.layers.Dense(10, dtype="mixed_bfloat16")      # or one layer
    layer.dtype_policy        # <DTypePolicy "mixed_bfloat16">
    layer.compute_dtype       # "bfloat16"
    layer.variable_dtype      # "float32" (also layer.dtype)

pydl knows three policies: ``"float32"`` (the default, from ``floatx()``),
``"float64"`` and ``"mixed_bfloat16"``. Under ``mixed_bfloat16`` the variables,
the optimizer's slots and its update stay float32; the matrix products of Dense
(forward, dX and dW) read their operands rounded to bfloat16 and sum in float32
(docs/mixed_precision.md says exactly what is rounded); everything a user
receives (predict's outputs, tape values, weights) is float32. On a CPU without
AVX512_BF16 (or with ``PYDL_ISA`` below ``avx512_bf16``) the float32 kernels run
and a warning says so, once.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _config, _core

_POLICIES = {"float32": ("float32", "float32"), "float64": ("float64", "float64"),
             "mixed_bfloat16": ("bfloat16", "float32")}
_UNSUPPORTED = {"mixed_float16": "float16 arithmetic", "bfloat16": "bfloat16 variables",
                "float16": "float16 variables"}
_global = {"policy": None}  # None: DTypePolicy(floatx()), following set_floatx


class DTypePolicy:
    """A layer's dtypes: ``compute_dtype`` (its computations) and ``variable_dtype``
    (its weights), as Keras 3's ``keras.DTypePolicy``.

    Args:
        name: "float32", "float64" (both dtypes that one) or "mixed_bfloat16"
            (bfloat16 compute, float32 variables); None: the global policy's name.

    Example:
        policy = pydl.DTypePolicy("mixed_bfloat16")
        policy.compute_dtype, policy.variable_dtype   # ("bfloat16", "float32")
    """

    def __init__(self, name=None):
        if name is None:
            name = dtype_policy().name
        if not isinstance(name, str):
            raise TypeError(f"'name' must be a string, such as 'mixed_bfloat16'. Received: "
                            f"name={name!r} (of type {type(name).__name__})")
        self._name = name
        self._compute_dtype, self._variable_dtype = _parse_name(name)

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's computations: "bfloat16" under mixed_bfloat16."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights (and of what it hands back to the user)."""
        return self._variable_dtype

    @property
    def quantization_mode(self):
        """None: pydl has no quantized policies."""
        return None

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> "DTypePolicy":
        return cls(**config)

    def __eq__(self, other) -> bool:
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self) -> int:
        return hash(("DTypePolicy", self._name))

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy  # Keras 3's alias


def _parse_name(name: str) -> tuple[str, str]:
    try:
        return _POLICIES[name]
    except KeyError:
        pass
    try:
        standard = np.dtype(name).name
    except TypeError:
        standard = None
    if standard in _POLICIES and standard != "mixed_bfloat16":
        return _POLICIES[standard]
    why = _UNSUPPORTED.get(name)
    detail = f" ({why} are not supported by pydl)" if why else ""
    raise ValueError(f"Cannot convert '{name}' to a dtype policy{detail}. Valid policies are "
                     "'float32', 'float64' and 'mixed_bfloat16'.")


def get(identifier) -> DTypePolicy:
    """A DTypePolicy from None (the global policy), a name, a NumPy dtype, a
    ``{"class_name": "DTypePolicy", "config": {"name": ...}}`` dict or a policy."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        name = np.dtype(identifier).name
    except TypeError:
        name = None
    if name is None:
        raise ValueError(f"Cannot interpret `dtype` argument. Expected a string or an instance "
                         f"of DTypePolicy. Received: dtype={identifier!r}")
    return DTypePolicy(name)


def serialize(policy: DTypePolicy) -> dict:
    """Keras 3's serialized form of a policy."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(),
            "registered_name": None}


def deserialize(config: dict, custom_objects=None) -> DTypePolicy:
    """A policy from ``serialize``'s dict (class_name DTypePolicy or FloatDTypePolicy)."""
    class_name = config.get("class_name") if isinstance(config, dict) else None
    inner = config.get("config") if isinstance(config, dict) else None
    if class_name not in ("DTypePolicy", "FloatDTypePolicy") or not isinstance(inner, dict):
        raise ValueError(f"dtype policy: expected {{'class_name': 'DTypePolicy', 'config': "
                         f"{{'name': ...}}}} (pydl has no quantized policies), received {config!r}")
    return DTypePolicy.from_config(inner)


def set_dtype_policy(policy) -> None:
    """Sets the global dtype policy: layers created afterwards without a ``dtype``
    take it (Keras 3's ``keras.config.set_dtype_policy``).

    Args:
        policy: a policy name ("float32", "float64", "mixed_bfloat16") or a DTypePolicy.
    """
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError("Invalid `policy` argument. Expected the string name of a policy "
                             f"(such as 'mixed_bfloat16') or a `DTypePolicy` instance. Received: "
                             f"policy={policy!r} (of type {type(policy).__name__})")
        policy = DTypePolicy(policy)
    _global["policy"] = policy
    if policy.compute_dtype == "bfloat16":
        bf16_kernels()  # warns now, once, on a CPU that will run float32 kernels


def dtype_policy() -> DTypePolicy:
    """The global dtype policy: the one set last, else ``DTypePolicy(floatx())``."""
    policy = _global["policy"]
    return policy if policy is not None else DTypePolicy(_config.floatx())


def reset_global_policy() -> None:
    """Back to following ``floatx()`` (``pydl.backend.clear_session`` calls it, as Keras
    resets its global state)."""
    _global["policy"] = None


_warned = {"fallback": False}


def bf16_kernels() -> bool:
    """Whether bfloat16 compute runs bfloat16 kernels here (AVX512_BF16, not capped by
    PYDL_ISA). When it does not, warns once per process that mixed_bfloat16 runs the
    float32 kernels (same results as float32, never an emulated, slower path)."""
    if _core.bf16_kernels():
        return True
    if not _warned["fallback"]:
        _warned["fallback"] = True
        isa = _core.active_isa()
        reason = ("this CPU has no AVX512_BF16" if _core.detected_isa() != "avx512_bf16"
                  else f"PYDL_ISA caps the SIMD path at {isa!r}")
        warnings.warn(f"mixed_bfloat16: {reason}, so pydl runs these layers' matrix products "
                      "with the float32 kernels (float32 results and speed; nothing is "
                      "emulated). show_config()['bf16'] says whether bfloat16 runs natively.",
                      RuntimeWarning, stacklevel=3)
    return False


__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "dtype_policy", "get",
           "serialize", "set_dtype_policy"]
