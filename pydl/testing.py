"""`gradcheck`: check a function's tape gradients against finite differences.

Use it on your own ops and custom layers:

    pydl.testing.gradcheck(lambda a, b: pydl.ops.sum(a * b), [a, b])

    layer = Linear(3)                      # a custom Layer with weights w, b
    layer.build((None, 4))
    x = np.random.default_rng(0).normal(size=(5, 4))
    pydl.testing.gradcheck(lambda x, w, b: layer(x), [x, layer.w, layer.b])
"""

from __future__ import annotations

import numpy as np

from .tape import GradientTape, _flatten
from .tensor import Tensor
from .variable import Variable


def _scalar(output) -> float:
    # The sum of every element of the output (or outputs).
    return float(sum(np.sum(np.asarray(leaf, dtype=np.float64)) for leaf in _flatten(output, [])))


def _target(output):
    from . import ops

    leaves = _flatten(output, [])
    total = ops.sum(leaves[0])
    for leaf in leaves[1:]:
        total = ops.add(total, ops.sum(leaf))
    return total


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """Compares tape gradients of `fn(*inputs)` with central finite differences, in float64.

    The target is the output itself if scalar, else the sum of all its elements
    (of all outputs, for a list/tuple). Float inputs are converted to float64
    and checked: arrays reach `fn` as Tensors (so `x.T`, `x * 2`, `x[1:]` are
    recorded); a Variable is passed itself, its value float64 during the check
    and restored after. Integer inputs (labels) are passed through unchanged
    and not differentiated.

        numeric[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
        passes when |tape[i] - numeric[i]| <= atol + rtol * |numeric[i]| for every i

    Args:
        fn: function of the inputs built from `pydl.ops`.
        inputs: list of arrays / Variables (numbers are allowed and not checked).
        eps: finite-difference step.
        atol, rtol: tolerances.

    Returns:
        True; raises AssertionError naming the worst element otherwise.
    """
    values, variables = [], []
    for x in inputs:
        if isinstance(x, Variable):
            variables.append((x, x.value))
            x.value = x.value.astype(np.float64)  # restored below
            values.append(x)
        else:
            v = np.asarray(x)
            # Float inputs reach `fn` as Tensors, so that operators and indexing on
            # them are recorded ops.
            values.append(Tensor(v.astype(np.float64)) if v.dtype.kind == "f" else v)
    try:
        return _check(fn, values, eps, atol, rtol)
    finally:
        for variable, original in variables:
            variable.value = original


def _array_of(x) -> np.ndarray:
    if isinstance(x, Variable):
        return x.value
    return x._value if isinstance(x, Tensor) else x


def _check(fn, values, eps, atol, rtol) -> bool:
    checked = [i for i, v in enumerate(values) if _array_of(v).dtype.kind == "f"]
    if not checked:
        raise ValueError("gradcheck: no float input to check")

    with GradientTape() as tape:
        for i in checked:
            tape.watch(values[i])
        target = _target(fn(*values))
    analytic = tape.gradient(target, [values[i] for i in checked])

    worst = (-1.0, None)
    for i, grad in zip(checked, analytic):
        x = _array_of(values[i])
        grad = np.zeros_like(x) if grad is None else grad
        for index in np.ndindex(x.shape):
            saved = x[index]
            x[index] = saved + eps
            f_plus = _scalar(fn(*values))
            x[index] = saved - eps
            f_minus = _scalar(fn(*values))
            x[index] = saved
            numeric = (f_plus - f_minus) / (2.0 * eps)
            excess = abs(grad[index] - numeric) - (atol + rtol * abs(numeric))
            if excess > worst[0]:
                worst = (excess, (i, index, float(grad[index]), numeric))
    if worst[0] > 0:
        i, index, got, numeric = worst[1]
        raise AssertionError(
            f"gradcheck: gradient of input {i} at index {index} is {got!r} from the tape but "
            f"{numeric!r} by finite differences (atol={atol}, rtol={rtol}, eps={eps})")
    return True
